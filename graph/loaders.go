package graph

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vikstrous/dataloadgen"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
)

// loaderWait is how long a loader collects keys before it fetches. Lists of cases prime
// their loaders with every key at once (see prime), so the wait only gathers keys of
// objects resolved side by side elsewhere; it is kept short because every level of a
// query pays it once.
const loaderWait = 500 * time.Microsecond

// eventsKey asks for one page of one case's timeline as seen in one role.
type eventsKey struct {
	View db.CaseView
	Page db.EventPage
}

// Loaders batch the lookups of one operation: each batch function runs one statement
// for all the keys gathered, and returns results in key order.
type Loaders struct {
	Companies   loader[string, db.Company]
	Users       loader[string, db.User]
	Payments    loader[string, db.Payment]
	Memberships loader[string, db.Membership]
	Recent      loader[db.CaseView, []dispute.Event]
	Events      loader[eventsKey, []dispute.Event]
	// EventCounts counts the events of a case's timeline its viewer may see.
	EventCounts loader[db.CaseView, int]
	// Disputants tells, for a user ID, whether the user has a case with one of the
	// viewer's merchant companies (which lets the merchant see the user's e-mail).
	Disputants loader[string, bool]
	// Attempts are a webhook delivery's most recent attempts (at most attemptsShown),
	// oldest first, by delivery ID.
	Attempts loader[string, []db.WebhookAttempt]
	// Messages are the payloads of webhook deliveries, which their lists leave out.
	Messages loader[db.MessageKey, db.WebhookMessage]
}

// recentCount is how many events Resolution.resolutionEvents returns.
const recentCount = 50

// NewLoaders returns fresh loaders over store; merchantOf are the viewer's merchant
// companies.
func NewLoaders(store *db.DB, merchantOf []string, tracer trace.Tracer) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(loaderWait)}
	if tracer != nil {
		opts = append(opts, dataloadgen.WithTracer(tracer))
	}
	return &Loaders{
		Companies: newLoader(tracer, opts, mapped(func(ctx context.Context, keys []string) (map[string]db.Company, error) {
			return store.CompaniesByID(ctx, keys)
		})),
		Users: newLoader(tracer, opts, mapped(func(ctx context.Context, keys []string) (map[string]db.User, error) {
			return store.UsersByID(ctx, keys)
		})),
		Payments: newLoader(tracer, opts, mapped(func(ctx context.Context, keys []string) (map[string]db.Payment, error) {
			return store.PaymentsByID(ctx, keys)
		})),
		Memberships: newLoader(tracer, opts, mapped(func(ctx context.Context, keys []string) (map[string]db.Membership, error) {
			return store.MembershipsByID(ctx, keys)
		})),
		Recent: newLoader(tracer, opts, func(ctx context.Context, keys []db.CaseView) ([][]dispute.Event, []error) {
			m, err := store.RecentEvents(ctx, keys, recentCount)
			out := make([][]dispute.Event, len(keys))
			errs := make([]error, len(keys))
			for i, k := range keys {
				out[i], errs[i] = m[k.CaseID], err
			}
			return out, errs
		}),
		Events: newLoader(tracer, opts, func(ctx context.Context, keys []eventsKey) ([][]dispute.Event, []error) {
			return fetchEventPages(ctx, store, keys)
		}),
		EventCounts: newLoader(tracer, opts, func(ctx context.Context, keys []db.CaseView) ([]int, []error) {
			m, err := store.CountEvents(ctx, keys)
			out := make([]int, len(keys))
			errs := make([]error, len(keys))
			for i, k := range keys {
				out[i], errs[i] = m[k.CaseID], err
			}
			return out, errs
		}),
		Disputants: newLoader(tracer, opts, func(ctx context.Context, keys []string) ([]bool, []error) {
			set, err := store.Disputants(ctx, keys, merchantOf)
			out := make([]bool, len(keys))
			errs := make([]error, len(keys))
			for i, k := range keys {
				out[i], errs[i] = set[k], err
			}
			return out, errs
		}),
		Attempts: newLoader(tracer, opts, func(ctx context.Context, keys []string) ([][]db.WebhookAttempt, []error) {
			m, err := store.WebhookAttempts(ctx, keys, attemptsShown)
			out := make([][]db.WebhookAttempt, len(keys))
			errs := make([]error, len(keys))
			for i, k := range keys {
				out[i], errs[i] = m[k], err
			}
			return out, errs
		}),
		Messages: newLoader(tracer, opts, mapped(func(ctx context.Context, keys []db.MessageKey) (map[db.MessageKey]db.WebhookMessage, error) {
			return store.WebhookMessages(ctx, keys)
		})),
	}
}

// loader is a dataloadgen loader that keeps its batch function, so that a list can
// fetch all its keys at once and fill the cache (see fill and prime).
type loader[K comparable, V any] struct {
	*dataloadgen.Loader[K, V]
	fetch  func(ctx context.Context, keys []K) ([]V, []error)
	tracer trace.Tracer
}

func newLoader[K comparable, V any](tracer trace.Tracer, opts []dataloadgen.Option, fetch func(context.Context, []K) ([]V, []error)) loader[K, V] {
	return loader[K, V]{Loader: dataloadgen.NewLoader(fetch, opts...), fetch: fetch, tracer: tracer}
}

// mapped turns a fetch by map into a batch function: a key with no value gets
// dataloadgen.ErrNotFound, as dataloadgen's mapped loaders do.
func mapped[K comparable, V any](fetch func(context.Context, []K) (map[K]V, error)) func(context.Context, []K) ([]V, []error) {
	return func(ctx context.Context, keys []K) ([]V, []error) {
		m, err := fetch(ctx, keys)
		out := make([]V, len(keys))
		errs := make([]error, len(keys))
		for i, k := range keys {
			v, ok := m[k]
			switch {
			case err != nil:
				errs[i] = err
			case !ok:
				errs[i] = dataloadgen.ErrNotFound
			}
			out[i] = v
		}
		return out, errs
	}
}

// fill fetches the keys in one statement, now, and caches what it found (a key cached
// already keeps its value). Unlike LoadAllThunk, whose batch the loader's timer may close between two
// keys on a busy machine, it cannot split. A key that failed or was not found is left
// out: its resolver loads it again and reports the error.
func (l loader[K, V]) fill(ctx context.Context, keys []K) {
	seen := make(map[K]bool, len(keys))
	todo := keys[:0:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			todo = append(todo, k)
		}
	}
	if len(todo) == 0 {
		return
	}
	if l.tracer != nil {
		var span trace.Span
		ctx, span = l.tracer.Start(ctx, "dataloadgen.fetch.fill", trace.WithAttributes(attribute.Int("dataloadgen.keys", len(todo))))
		defer span.End()
	}
	values, errs := l.fetch(ctx, todo)
	for i, k := range todo {
		if i < len(values) && (i >= len(errs) || errs[i] == nil) {
			l.Prime(k, values[i])
		}
	}
}

// fetchEventPages runs one statement per distinct page shape (usually one for a whole
// list of cases) and hands each key its case's events.
func fetchEventPages(ctx context.Context, store *db.DB, keys []eventsKey) ([][]dispute.Event, []error) {
	groups := map[db.EventPage][]db.CaseView{}
	for _, k := range keys {
		groups[k.Page] = append(groups[k.Page], k.View)
	}
	results := map[db.EventPage]map[string][]dispute.Event{}
	errByPage := map[db.EventPage]error{}
	for page, views := range groups {
		results[page], errByPage[page] = store.ListEvents(ctx, views, page)
	}
	out := make([][]dispute.Event, len(keys))
	errs := make([]error, len(keys))
	for i, k := range keys {
		out[i], errs[i] = results[k.Page][k.View.CaseID], errByPage[k.Page]
	}
	return out, errs
}

type loadersKey struct{}

// lazyLoaders makes an operation's loaders on first use: a subscription holds its
// operation's context for as long as it is open, and most never load anything.
type lazyLoaders struct {
	mu   sync.Mutex
	make func() *Loaders
	l    atomic.Pointer[Loaders]
}

func (z *lazyLoaders) get() *Loaders {
	if l := z.l.Load(); l != nil {
		return l
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if l := z.l.Load(); l != nil {
		return l
	}
	l := z.make()
	z.l.Store(l)
	return l
}

// renewLoaders drops what the operation's loaders cached, after a mutation field
// changed a case: the fields of one operation run one after another, and a later
// one's payload must not show the payment, membership or timeline an earlier one
// loaded before the change.
func renewLoaders(ctx context.Context) {
	if z, ok := ctx.Value(loadersKey{}).(*lazyLoaders); ok {
		z.l.Store(nil)
	}
}

// withLoaders gives the operation of ctx loaders made by mk when first needed.
func withLoaders(ctx context.Context, mk func() *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, &lazyLoaders{make: mk})
}

// freshLoaders gives one response of a subscription loaders of its own. The
// operation's loaders cache what they load for as long as the operation runs: for a
// subscription, that is its whole life, and every change after the first would show
// the events, payment and membership the first one loaded.
func freshLoaders(ctx context.Context) context.Context {
	if z, ok := ctx.Value(loadersKey{}).(*lazyLoaders); ok {
		return withLoaders(ctx, z.make)
	}
	return ctx
}

func loadersFrom(ctx context.Context) *Loaders {
	if z, ok := ctx.Value(loadersKey{}).(*lazyLoaders); ok {
		return z.get()
	}
	return nil
}

// isLoaderNotFound reports whether a mapped loader found no value for a key.
func isLoaderNotFound(err error) bool { return errors.Is(err, dataloadgen.ErrNotFound) }

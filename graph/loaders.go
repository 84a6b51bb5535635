package graph

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/vikstrous/dataloadgen"
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
	Companies   *dataloadgen.Loader[string, db.Company]
	Users       *dataloadgen.Loader[string, db.User]
	Payments    *dataloadgen.Loader[string, db.Payment]
	Memberships *dataloadgen.Loader[string, db.Membership]
	Recent      *dataloadgen.Loader[db.CaseView, []dispute.Event]
	Events      *dataloadgen.Loader[eventsKey, []dispute.Event]
	// Disputants tells, for a user ID, whether the user has a case with one of the
	// viewer's merchant companies (which lets the merchant see the user's e-mail).
	Disputants *dataloadgen.Loader[string, bool]
}

// recentCount is how many events Resolution.resolutionEvents returns.
const recentCount = 50

// NewLoaders returns fresh loaders over idb; merchantOf are the viewer's merchant companies.
func NewLoaders(idb bun.IDB, merchantOf []string, tracer trace.Tracer) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(loaderWait)}
	if tracer != nil {
		opts = append(opts, dataloadgen.WithTracer(tracer))
	}
	return &Loaders{
		Companies: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []string) (map[string]db.Company, error) {
			return db.GetCompanies(ctx, idb, keys)
		}, opts...),
		Users: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []string) (map[string]db.User, error) {
			return db.GetUsers(ctx, idb, keys)
		}, opts...),
		Payments: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []string) (map[string]db.Payment, error) {
			return db.GetPayments(ctx, idb, keys)
		}, opts...),
		Memberships: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []string) (map[string]db.Membership, error) {
			return db.GetMemberships(ctx, idb, keys)
		}, opts...),
		Recent: dataloadgen.NewLoader(func(ctx context.Context, keys []db.CaseView) ([][]dispute.Event, []error) {
			m, err := db.RecentEvents(ctx, idb, keys, recentCount)
			out := make([][]dispute.Event, len(keys))
			errs := make([]error, len(keys))
			for i, k := range keys {
				out[i], errs[i] = m[k.CaseID], err
			}
			return out, errs
		}, opts...),
		Events: dataloadgen.NewLoader(func(ctx context.Context, keys []eventsKey) ([][]dispute.Event, []error) {
			return fetchEventPages(ctx, idb, keys)
		}, opts...),
		Disputants: dataloadgen.NewLoader(func(ctx context.Context, keys []string) ([]bool, []error) {
			set, err := db.Disputants(ctx, idb, keys, merchantOf)
			out := make([]bool, len(keys))
			errs := make([]error, len(keys))
			for i, k := range keys {
				out[i], errs[i] = set[k], err
			}
			return out, errs
		}, opts...),
	}
}

// fetchEventPages runs one statement per distinct page shape (usually one for a whole
// list of cases) and hands each key its case's events.
func fetchEventPages(ctx context.Context, idb bun.IDB, keys []eventsKey) ([][]dispute.Event, []error) {
	groups := map[db.EventPage][]db.CaseView{}
	for _, k := range keys {
		groups[k.Page] = append(groups[k.Page], k.View)
	}
	results := map[db.EventPage]map[string][]dispute.Event{}
	errByPage := map[db.EventPage]error{}
	for page, views := range groups {
		results[page], errByPage[page] = db.ListEvents(ctx, idb, views, page)
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
	once sync.Once
	make func() *Loaders
	l    *Loaders
}

func (z *lazyLoaders) get() *Loaders {
	z.once.Do(func() { z.l = z.make(); z.make = nil })
	return z.l
}

// withLoaders gives the operation of ctx loaders made by mk when first needed.
func withLoaders(ctx context.Context, mk func() *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, &lazyLoaders{make: mk})
}

func loadersFrom(ctx context.Context) *Loaders {
	if z, ok := ctx.Value(loadersKey{}).(*lazyLoaders); ok {
		return z.get()
	}
	return nil
}

// isLoaderNotFound reports whether a mapped loader found no value for a key.
func isLoaderNotFound(err error) bool { return errors.Is(err, dataloadgen.ErrNotFound) }

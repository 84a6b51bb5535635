// Package graph is the GraphQL layer: gqlgen's generated executor, thin resolvers that
// check the principal, convert arguments and call the store, per-operation dataloaders,
// the error presenter, and the planned executor that answers query operations (plan.go)
// with the resolvers' own rules.
//
// graph imports dispute, db, pubsub and auth (which app wires in), observe and
// ratelimit for its middleware, and its own sub-packages; never app.
package graph

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/pubsub"
	"resolutioncenter/webhook"
)

//go:generate go tool gqlgen generate

// Resolver holds the dependencies of every resolver. It is built once at start.
type Resolver struct {
	DB     *db.DB
	Policy *dispute.Policy
	Now    func() time.Time
	Logger *slog.Logger
	// Hub fans committed changes out to subscriptions; nil disables them.
	Hub *pubsub.Hub
	// Webhooks manages webhook endpoints and redeliveries; nil answers UNAVAILABLE.
	Webhooks *webhook.Service
	// MaxSubscriptionsPerPrincipal bounds one token's concurrent subscriptions, and
	// its open WebSocket connections as well (0: 1000).
	MaxSubscriptionsPerPrincipal int

	subs  slots // active subscriptions per subscriptionKey
	conns slots // open WebSocket connections per connectionKey
}

// maxSessions is MaxSubscriptionsPerPrincipal with its default.
func (r *Resolver) maxSessions() int {
	if r.MaxSubscriptionsPerPrincipal <= 0 {
		return 1000
	}
	return r.MaxSubscriptionsPerPrincipal
}

// slots counts what callers hold at once, per key. The zero value is ready to use.
type slots struct {
	mu sync.Mutex
	n  map[string]int
}

// take counts one more for key unless limit are held already; release (idempotent)
// gives it back.
func (s *slots) take(key string, limit int) (release func(), ok bool) {
	return s.takeWithin(key, limit, "", 0)
}

// takeWithin is take for key and, unless parent is empty, for parent (an aggregate
// of several keys, with its own parentLimit) together: one more for both, or, when
// either is full, for neither. Keys are forgotten when nothing is held, parents too.
func (s *slots) takeWithin(key string, limit int, parent string, parentLimit int) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	if s.n[key] >= limit || parent != "" && s.n[parent] >= parentLimit {
		return nil, false
	}
	keys := []string{key}
	if parent != "" {
		keys = append(keys, parent)
	}
	for _, k := range keys {
		s.n[k]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, k := range keys {
				if s.n[k]--; s.n[k] <= 0 {
					delete(s.n, k)
				}
			}
		})
	}, true
}

// now returns the current time in UTC at the millisecond precision the store keeps.
func (r *Resolver) now() time.Time { return r.Now().UTC().Truncate(time.Millisecond) }

// reader returns the principal of a request that may read, or the error to answer with.
func reader(ctx context.Context) (*auth.Principal, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, dispute.Unauthenticated("authentication required: send Authorization: Bearer <token>")
	}
	if !p.CanRead() {
		return nil, dispute.Forbidden("the token lacks the read scope")
	}
	return p, nil
}

// manager returns the principal of a request that may change things.
func manager(ctx context.Context) (*auth.Principal, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, dispute.Unauthenticated("authentication required: send Authorization: Bearer <token>")
	}
	if !p.CanManage() {
		return nil, dispute.Forbidden("the token lacks the manage scope")
	}
	return p, nil
}

// platform returns the principal of a platform request that may change things.
func platform(ctx context.Context) (*auth.Principal, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, err
	}
	if p.Kind != auth.KindPlatform {
		return nil, dispute.Forbidden("only a platform token may do this")
	}
	return p, nil
}

// loaders returns the operation's loaders, creating them when the operation started
// without (e.g. a test calling a resolver directly).
func (r *Resolver) loaders(ctx context.Context) *Loaders {
	if l := loadersFrom(ctx); l != nil {
		return l
	}
	var merchantOf []string
	if p := auth.FromContext(ctx); p != nil {
		merchantOf = p.MerchantOf()
	}
	return NewLoaders(r.DB, merchantOf, nil)
}

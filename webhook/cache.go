package webhook

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"resolutioncenter/db"
)

// endpointTTL is how long a worker reuses an endpoint it read: a change (new URL,
// rotation, disabling) reaches deliveries within it, and a busy endpoint costs one
// read per second instead of one per delivery.
const endpointTTL = time.Second

type cachedEndpoint struct {
	ep      db.WebhookEndpoint
	fetched time.Time
}

// endpointCache remembers endpoints for endpointTTL. When an entry expires, one caller
// reads it again and the others running at that moment wait for that read
// (singleflight): a busy endpoint's deliveries (dozens at once) would otherwise all miss
// together and queue for the delivery pool's few connections.
type endpointCache struct {
	mu    sync.Mutex
	by    map[string]cachedEndpoint
	reads singleflight.Group
}

// endpoint returns the endpoint, from the cache when fresh.
func (s *Service) endpoint(ctx context.Context, id string) (db.WebhookEndpoint, error) {
	c := &s.endpoints
	c.mu.Lock()
	e, ok := c.by[id]
	c.mu.Unlock()
	if ok && time.Since(e.fetched) < endpointTTL {
		return e.ep, nil
	}
	read := c.reads.DoChan(id, func() (any, error) {
		// A caller that missed just before another's read stored the entry starts a
		// read of its own: it finds the entry here instead of reading again.
		c.mu.Lock()
		e, ok := c.by[id]
		c.mu.Unlock()
		if ok && time.Since(e.fetched) < endpointTTL {
			return e.ep, nil
		}
		ep, err := s.db.WebhookEndpointByID(ctx, id)
		if err == nil {
			c.mu.Lock()
			if c.by == nil || len(c.by) > 10000 {
				c.by = map[string]cachedEndpoint{}
			}
			c.by[id] = cachedEndpoint{ep: ep, fetched: time.Now()}
			c.mu.Unlock()
		}
		return ep, err
	})
	select {
	case r := <-read:
		ep, _ := r.Val.(db.WebhookEndpoint)
		return ep, r.Err
	case <-ctx.Done():
		return db.WebhookEndpoint{}, ctx.Err()
	}
}

// forget drops an endpoint from the cache (it changed in this process).
func (s *Service) forget(id string) {
	s.endpoints.mu.Lock()
	delete(s.endpoints.by, id)
	s.endpoints.mu.Unlock()
}

// sendable returns the endpoint for a delivery about to be sent. A cached entry that
// says disabled is checked against the database before the delivery is failed for it:
// the endpoint may have been enabled within the TTL by another process (which forgot
// only its own entry), just before redeliverWebhook or redeliverFailedWebhooks made its
// deliveries pending again; failing them on a stale entry would undo the recovery.
// Disabled endpoints are rare, so the extra read is too.
func (s *Service) sendable(ctx context.Context, id string) (db.WebhookEndpoint, error) {
	ep, err := s.endpoint(ctx, id)
	if err != nil || ep.DisabledAt == nil {
		return ep, err
	}
	fresh, err := s.db.WebhookEndpointByID(ctx, id)
	if err != nil {
		return fresh, err
	}
	if fresh.DisabledAt == nil {
		s.forget(id)
	}
	return fresh, nil
}

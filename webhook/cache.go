package webhook

import (
	"context"
	"sync"
	"time"

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

// endpointCache remembers endpoints for endpointTTL.
type endpointCache struct {
	mu sync.Mutex
	by map[string]cachedEndpoint
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
	ep, err := s.db.WebhookEndpointByID(ctx, id)
	if err != nil {
		return ep, err
	}
	c.mu.Lock()
	if c.by == nil || len(c.by) > 10000 {
		c.by = map[string]cachedEndpoint{}
	}
	c.by[id] = cachedEndpoint{ep: ep, fetched: time.Now()}
	c.mu.Unlock()
	return ep, nil
}

// forget drops an endpoint from the cache (it changed in this process).
func (s *Service) forget(id string) {
	s.endpoints.mu.Lock()
	delete(s.endpoints.by, id)
	s.endpoints.mu.Unlock()
}

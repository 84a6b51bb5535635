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

// endpointCache remembers endpoints for endpointTTL. When an entry expires, one caller
// reads it again and the others running at that moment wait for that read: a busy
// endpoint's deliveries (dozens at once) would otherwise all miss together and queue
// for the delivery pool's few connections.
type endpointCache struct {
	mu       sync.Mutex
	by       map[string]cachedEndpoint
	inflight map[string]*endpointRead
}

// endpointRead is a read in progress; done closes when ep and err are set.
type endpointRead struct {
	done chan struct{}
	ep   db.WebhookEndpoint
	err  error
}

// endpoint returns the endpoint, from the cache when fresh.
func (s *Service) endpoint(ctx context.Context, id string) (db.WebhookEndpoint, error) {
	c := &s.endpoints
	c.mu.Lock()
	if e, ok := c.by[id]; ok && time.Since(e.fetched) < endpointTTL {
		c.mu.Unlock()
		return e.ep, nil
	}
	if r, ok := c.inflight[id]; ok {
		c.mu.Unlock()
		select {
		case <-r.done:
			return r.ep, r.err
		case <-ctx.Done():
			return db.WebhookEndpoint{}, ctx.Err()
		}
	}
	r := &endpointRead{done: make(chan struct{})}
	if c.inflight == nil {
		c.inflight = map[string]*endpointRead{}
	}
	c.inflight[id] = r
	c.mu.Unlock()

	r.ep, r.err = s.db.WebhookEndpointByID(ctx, id)
	c.mu.Lock()
	delete(c.inflight, id)
	if r.err == nil {
		if c.by == nil || len(c.by) > 10000 {
			c.by = map[string]cachedEndpoint{}
		}
		c.by[id] = cachedEndpoint{ep: r.ep, fetched: time.Now()}
	}
	c.mu.Unlock()
	close(r.done)
	return r.ep, r.err
}

// forget drops an endpoint from the cache (it changed in this process).
func (s *Service) forget(id string) {
	s.endpoints.mu.Lock()
	delete(s.endpoints.by, id)
	s.endpoints.mu.Unlock()
}

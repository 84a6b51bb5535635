package webhook

import (
	"context"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// CachedEndpoint returns the endpoint through the workers' cache (reading and caching
// it when it is not fresh there).
func (s *Service) CachedEndpoint(ctx context.Context, id string) (db.WebhookEndpoint, error) {
	return s.endpoint(ctx, id)
}

// SetDisabled disables or enables an endpoint straight in the database, as another
// process would: no service's cache is told.
func SetDisabled(tb testing.TB, d *db.DB, id string, disabled bool) {
	tb.Helper()
	if _, err := d.UpdateWebhookEndpoint(context.Background(), id, func(db.WebhookEndpoint) error { return nil }, func(e *db.WebhookEndpoint) error {
		e.DisabledAt, e.DisabledReason = nil, ""
		if disabled {
			now := dbtest.Now()
			e.DisabledAt, e.DisabledReason = &now, "410 Gone"
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
}

// WithJobTimeout sets River's job timeout (normally derived from Timeout).
func WithJobTimeout(o Options, d time.Duration) Options {
	o.jobTimeout = d
	return o
}

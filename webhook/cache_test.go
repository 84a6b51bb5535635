package webhook

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// endpointReads counts the statements that read webhook endpoints.
type endpointReads struct{ n atomic.Int64 }

func (h *endpointReads) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (h *endpointReads) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	if strings.Contains(ev.Query, `FROM "webhook_endpoints"`) {
		h.n.Add(1)
	}
}

// TestEndpointCacheReadsOnce: many deliveries asking for an endpoint at once, when it
// is not (or no longer) cached, cost one read; within the TTL, none.
func TestEndpointCacheReadsOnce(t *testing.T) {
	d := dbtest.MustSQLite(t)
	p := dispute.DefaultPolicy()
	s, err := New(d, nil, &p, Options{Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	c := dbtest.MustCast(t, d)
	ep, err := d.CreateWebhookEndpoint(context.Background(), db.WebhookEndpoint{CompanyID: c.Company.ID,
		URL: "https://example.com/h", SecretEnc: "x", CreatedAt: dbtest.Now(), UpdatedAt: dbtest.Now()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	reads := &endpointReads{}
	t.Cleanup(d.AddQueryHook(reads))
	ask := func() {
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if got, err := s.endpoint(context.Background(), ep.ID); err != nil || got.ID != ep.ID {
					t.Errorf("endpoint: %+v %v", got, err)
				}
			}()
		}
		wg.Wait()
	}
	ask()
	if n := reads.n.Load(); n != 1 {
		t.Fatalf("%d reads for 50 concurrent askers of an uncached endpoint, want 1", n)
	}
	ask()
	if n := reads.n.Load(); n != 1 {
		t.Fatalf("%d reads, want none more within the TTL", n)
	}
	time.Sleep(endpointTTL + 10*time.Millisecond)
	ask()
	if n := reads.n.Load(); n != 2 {
		t.Fatalf("%d reads after the TTL, want one more", n)
	}
}

// TestSendableRechecksDisabled: an endpoint cached as disabled, then enabled by
// another process (this one's cache not told), is sendable at once, not failed on the
// stale entry; one still disabled stays disabled.
func TestSendableRechecksDisabled(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		p := dispute.DefaultPolicy()
		s, err := New(d, nil, &p, Options{Dev: true})
		if err != nil {
			t.Fatal(err)
		}
		c := dbtest.MustCast(t, d)
		ep, err := d.CreateWebhookEndpoint(ctx, db.WebhookEndpoint{CompanyID: c.Company.ID,
			URL: "https://example.com/h", SecretEnc: "x", CreatedAt: dbtest.Now(), UpdatedAt: dbtest.Now()}, 0)
		if err != nil {
			t.Fatal(err)
		}
		SetDisabled(t, d, ep.ID, true)
		if got, err := s.endpoint(ctx, ep.ID); err != nil || got.DisabledAt == nil {
			t.Fatalf("cached: %+v %v", got, err)
		}
		if got, err := s.sendable(ctx, ep.ID); err != nil || got.DisabledAt == nil {
			t.Fatalf("a disabled endpoint is sendable: %+v %v", got, err)
		}
		SetDisabled(t, d, ep.ID, false) // by "another process": this one's cache still says disabled
		if got, err := s.endpoint(ctx, ep.ID); err != nil || got.DisabledAt == nil {
			t.Fatalf("the cache was expected to be stale: %+v %v", got, err)
		}
		if got, err := s.sendable(ctx, ep.ID); err != nil || got.DisabledAt != nil {
			t.Fatalf("an enabled endpoint on a stale entry: %+v %v", got, err)
		}
		if got, err := s.endpoint(ctx, ep.ID); err != nil || got.DisabledAt != nil {
			t.Fatalf("the stale entry stayed: %+v %v", got, err)
		}
	})
}

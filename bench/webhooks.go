package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// runWebhooks measures what webhook delivery costs the write path: the mutate scenario
// without endpoints, then with -webhook-endpoints platform endpoints (every company,
// every event type) pointing at a receiver in this process on loopback, in
// -webhook-rounds alternating rounds (the machine's load drifts; compare within a round). It reports the mutation rate of both, the loss, and the delivery lag: from
// the payload's timestamp (the change's time, just before its commit) to the moment
// the receiver answered 2xx. The server must run in development mode (DEV_MODE=true;
// -spawn does it) so that loopback endpoints are accepted.
func (e *env) runWebhooks(ctx context.Context) (Result, error) {
	rcv, err := startLagReceiver()
	if err != nil {
		return Result{}, err
	}
	defer rcv.close()
	if err := e.deleteLeftoverEndpoints(ctx); err != nil {
		return Result{}, err
	}
	rounds := max(1, e.opts.WebhookRounds)
	var r, base Result
	var losses []float64
	var lags []time.Duration
	var received, expected int64
	for round := 1; round <= rounds; round++ {
		e.logf("webhooks: round %d/%d without endpoints", round, rounds)
		b, err := e.runMutate(ctx)
		if err != nil {
			return Result{}, err
		}
		ids, err := e.createBenchEndpoints(ctx, rcv.url)
		if err != nil {
			return Result{}, err
		}
		rcv.reset()
		e.logf("webhooks: round %d/%d with %d endpoints", round, rounds, len(ids))
		w, err := e.runMutate(ctx)
		if err == nil {
			rcv.wait(-1, 60*time.Second)
		}
		e.deleteBenchEndpoints(ctx, ids)
		if err != nil {
			return w, err
		}
		got := rcv.lags()
		lags = append(lags, got...)
		received += int64(len(got))
		expected += (w.Requests - w.Errors) * int64(len(ids))
		if b.RPS > 0 {
			losses = append(losses, round1(100*(1-w.RPS/b.RPS)))
		}
		r, base = w, b
	}
	r.Scenario = "webhooks"
	s := Summarize(lags)
	r.extra("endpoints", e.opts.WebhookEndpoints)
	r.extra("rounds", rounds)
	r.extra("rps_without_webhooks", round1(base.RPS))
	r.extra("rps_loss_pct_by_round", losses)
	if base.SQLPerReq != nil {
		r.extra("sql_per_request_without_webhooks", round1(*base.SQLPerReq))
	}
	if v, ok := base.Extra["server_cpu_ms_per_req"]; ok {
		r.extra("server_cpu_ms_per_req_without_webhooks", v)
	}
	if v, ok := base.Extra["postgres_cpu_s"]; ok {
		r.extra("postgres_cpu_s_without_webhooks", v)
	}
	// The measured windows' deliveries plus the warm-ups': received counts both.
	r.extra("deliveries_received", received)
	r.extra("deliveries_expected_at_least", expected)
	r.extra("lag_p50_ms", millis(s.P50))
	r.extra("lag_p99_ms", millis(s.P99))
	r.extra("lag_max_ms", millis(s.Max))
	return r, nil
}

// createBenchEndpoints registers WebhookEndpoints platform endpoints (every company,
// every event type) pointing at url.
func (e *env) createBenchEndpoints(ctx context.Context, url string) ([]string, error) {
	var ids []string
	for range e.opts.WebhookEndpoints {
		var out struct {
			CreateWebhookEndpoint struct {
				Endpoint   *struct{ ID string }
				UserErrors []struct{ Code, Message string }
			}
		}
		err := e.gql[0].Do(ctx, e.opts.Token, `mutation BenchWebhookEndpoint($url: String!) { createWebhookEndpoint(input: {url: $url, description: "bench"}) {
			endpoint { id } userErrors { code message } } }`, map[string]any{"url": url}, &out)
		if err == nil && out.CreateWebhookEndpoint.Endpoint == nil {
			err = fmt.Errorf("createWebhookEndpoint refused: %+v (is the server in development mode?)", out.CreateWebhookEndpoint.UserErrors)
		}
		if err != nil {
			e.deleteBenchEndpoints(ctx, ids)
			return nil, err
		}
		ids = append(ids, out.CreateWebhookEndpoint.Endpoint.ID)
	}
	return ids, nil
}

// deleteBenchEndpoints deletes the endpoints and their delivery logs. A failure is
// reported: an endpoint left behind would receive (and fail) every later run's changes.
func (e *env) deleteBenchEndpoints(ctx context.Context, ids []string) {
	for _, id := range ids {
		var out struct{ DeleteWebhookEndpoint struct{ DeletedID *string } }
		err := e.gql[0].Do(context.WithoutCancel(ctx), e.opts.Token, `mutation BenchWebhookDelete($id: ID!) { deleteWebhookEndpoint(input: {id: $id}) { deletedId } }`,
			map[string]any{"id": id}, &out)
		if err == nil && out.DeleteWebhookEndpoint.DeletedID == nil {
			err = errors.New("refused")
		}
		if err != nil {
			e.logf("webhooks: deleting endpoint %s: %v (the next run deletes it)", id, err)
		}
	}
}

// deleteLeftoverEndpoints deletes the endpoints an earlier run left behind (described
// "bench"): they would take deliveries, and CPU, from this run.
func (e *env) deleteLeftoverEndpoints(ctx context.Context) error {
	var out struct {
		WebhookEndpoints struct {
			Nodes []struct{ ID, Description string }
		}
	}
	if err := e.gql[0].Do(ctx, e.opts.Token, `query BenchWebhookEndpoints { webhookEndpoints(first: 100) { nodes { id description } } }`, nil, &out); err != nil {
		return fmt.Errorf("list webhook endpoints: %w", err)
	}
	var ids []string
	for _, n := range out.WebhookEndpoints.Nodes {
		if n.Description == "bench" {
			ids = append(ids, n.ID)
		}
	}
	if len(ids) > 0 {
		e.logf("webhooks: deleting %d endpoint(s) an earlier run left behind", len(ids))
		e.deleteBenchEndpoints(ctx, ids)
	}
	return nil
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

func millis(d time.Duration) float64 { return round1(float64(d) / float64(time.Millisecond)) }

// lagReceiver answers 204 to every delivery and keeps its lag.
type lagReceiver struct {
	url  string
	srv  *http.Server
	mu   sync.Mutex
	lag  []time.Duration
	last time.Time
}

func startLagReceiver() (*lagReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &lagReceiver{url: "http://" + ln.Addr().String() + "/hook"}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln) //nolint:errcheck
	return r, nil
}

// ServeHTTP reads the body, answers 204 and notes the lag. It takes the envelope's
// timestamp without parsing the whole body (a few microseconds instead of a JSON
// decode of ~14 KB per delivery): the receiver shares the machine's CPUs with the
// server, and its own cost should not count as the server's.
func (r *lagReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	w.WriteHeader(http.StatusNoContent)
	now := time.Now()
	t, err := time.Parse(time.RFC3339Nano, envelopeTimestamp(body))
	if err != nil {
		return
	}
	r.mu.Lock()
	r.lag = append(r.lag, now.Sub(t))
	r.last = now
	r.mu.Unlock()
}

// envelopeTimestamp returns the first "timestamp" string of a delivery's body: the
// envelope's own, which precedes data (id, type, timestamp, company_id, data, ...);
// failing that, the one a JSON decode finds.
func envelopeTimestamp(body []byte) string {
	const key = `"timestamp":"`
	if i := bytes.Index(body, []byte(key)); i >= 0 {
		rest := body[i+len(key):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			return string(rest[:j])
		}
	}
	var p struct {
		Timestamp string `json:"timestamp"`
	}
	_ = json.Unmarshal(body, &p)
	return p.Timestamp
}

func (r *lagReceiver) reset() {
	r.mu.Lock()
	r.lag = nil
	r.mu.Unlock()
}

func (r *lagReceiver) lags() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.lag...)
}

// wait waits until want deliveries arrived (or, with want < 0, until none arrived for
// 2 s), at most limit, and returns how long it waited.
func (r *lagReceiver) wait(want int64, limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit {
		r.mu.Lock()
		n, last := int64(len(r.lag)), r.last
		r.mu.Unlock()
		if (want >= 0 && n >= want) || (want < 0 && time.Since(last) > 2*time.Second) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

func (r *lagReceiver) close() { _ = r.srv.Close() }

// Package apptest is the one test harness: it starts the real server, built by
// app.New exactly as production builds it, on either engine (in process on port 0, or
// as the real binary built once per test run), and speaks to it over HTTP, WebSocket
// (graphql-transport-ws) and Server-Sent Events, as clients do.
//
// apptest imports app, db, dbtest and graph (for limits); tests of every package may
// import it (in their _test packages).
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"resolutioncenter/app"
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph"
)

// PlatformToken is the PLATFORM_TOKEN every test server accepts. It needs no database
// lookup, so it keeps working during a database outage.
const PlatformToken = "test-platform-token-0123456789abcdef"

// MetricsToken is the METRICS_TOKEN every test server requires on /metrics.
const MetricsToken = "test-metrics-token-0123456789abcdef"

// MetricsHeader is the header that opens /metrics of a test server.
var MetricsHeader = map[string]string{"Authorization": "Bearer " + MetricsToken}

// Defaults are the settings every test server starts with, under Options.Env: a free
// loopback port, JSON logs, no demo data, no rate limit, no token cache, no sweeper
// (tests drive deadlines with their own clock and sweeper), and no webhook delivery
// workers (webhook tests set WEBHOOK_WORKERS).
var Defaults = map[string]string{
	"ADDR":           "127.0.0.1:0",
	"LOG_FORMAT":     "json",
	"PLATFORM_TOKEN": PlatformToken,
	"METRICS_TOKEN":  MetricsToken,
	"SEED_DEMO":      "false",
	"RATE_LIMIT":     "0",
	"SWEEP_INTERVAL": "0",
	"SHUTDOWN_GRACE": "5s",
	"AUTH_CACHE_TTL": "0",
	// Webhook receivers in tests listen on loopback, which only development mode allows.
	// No delivery workers (their background statements, goroutines and LISTEN session
	// would disturb tests that count those): webhook tests turn them on.
	"DEV_MODE":           "true",
	"WEBHOOK_SECRET_KEY": "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=",
	"WEBHOOK_WORKERS":    "0",
}

// Options tune a test server; zero values take the defaults.
type Options struct {
	// Env holds settings as environment variables, over Defaults.
	Env map[string]string
	// Limits, when set, replace the request limits.
	Limits *graph.Limits
	// Policy, when set, gives the response window and the information-request cap.
	Policy *dispute.Policy
	// Now is the server's clock.
	Now func() time.Time
	// Tracer, when set, receives the server's spans.
	Tracer trace.Tracer
}

// Server is a running server.
type Server struct {
	*app.App
	// URL is the /graphql endpoint; Base the server's root, http://host:port.
	URL, Base string
	// Out is what the server printed: its start-up lines and its JSON logs.
	Out *Output

	tb       testing.TB
	cancel   context.CancelFunc
	served   chan struct{} // closed when Serve has returned
	serveErr error         // Serve's error, once served is closed
	stopOnce sync.Once
	stopErr  error
}

// New serves d (filled by the test) with opts, until the test ends.
func New(tb testing.TB, d *db.DB, opts ...Options) *Server {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return start(tb, d, o)
}

// Start serves the database named by opts.Env["DATABASE_URL"], opened and migrated by
// the server itself (a fresh SQLite file when unset), until the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	return start(tb, nil, opts)
}

func start(tb testing.TB, d *db.DB, o Options) *Server {
	tb.Helper()
	env := maps.Clone(Defaults)
	maps.Copy(env, o.Env)
	if d == nil && env["DATABASE_URL"] == "" {
		env["DATABASE_URL"] = "sqlite:" + filepath.Join(tb.TempDir(), "rc.db")
	}
	if o.Policy != nil {
		if o.Policy.ResponseWindow > 0 {
			env["RESPONSE_WINDOW"] = o.Policy.ResponseWindow.String()
		}
		if o.Policy.MaxInfoRequests > 0 {
			env["MAX_INFO_REQUESTS"] = strconv.Itoa(o.Policy.MaxInfoRequests)
		}
	}
	out := NewOutput()
	cfg, err := app.ParseConfig("serve", nil, func(k string) string { return env[k] }, out)
	if err != nil {
		tb.Fatalf("apptest: configuration: %v", err)
	}
	if o.Limits != nil {
		cfg.Limits = *o.Limits
	}
	cfg.DB, cfg.Now, cfg.Tracer = d, o.Now, o.Tracer
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg)
	if err != nil {
		cancel()
		tb.Fatalf("apptest: start: %v\noutput:\n%s", err, out)
	}
	s := &Server{App: a, URL: a.URL() + "/graphql", Base: a.URL(), Out: out, tb: tb, cancel: cancel, served: make(chan struct{})}
	go func() {
		defer close(s.served)
		s.serveErr = a.Serve(ctx)
	}()
	tb.Cleanup(func() {
		if tb.Failed() {
			out.LogProblems(tb)
		}
		if err := s.Stop(15 * time.Second); err != nil && !errors.Is(err, ErrStopTimeout) {
			tb.Logf("server stopped with: %v", err)
		}
	})
	if a.Listener != nil {
		deadline := time.Now().Add(10 * time.Second)
		for !a.Listener.Up() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	return s
}

// ErrStopTimeout is what Stop returns when Serve did not return in time.
var ErrStopTimeout = errors.New("apptest: the server did not stop in time")

// Stop does what SIGTERM does (ends Serve's context), waits up to timeout for the
// graceful shutdown, then closes the App. It returns Serve's error.
func (s *Server) Stop(timeout time.Duration) error {
	s.stopOnce.Do(func() {
		s.cancel()
		select {
		case <-s.served:
			s.stopErr = s.serveErr
		case <-time.After(timeout):
			s.stopErr = ErrStopTimeout
		}
		s.App.Close()
	})
	return s.stopErr
}

// Done is closed when Serve has returned: after Stop, or before if the server failed
// on its own (a test checks that it keeps serving through an outage).
func (s *Server) Done() <-chan struct{} { return s.served }

// Output is a goroutine-safe writer that keeps what a server prints.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan struct{} // signalled on every write
}

// NewOutput returns an empty Output.
func NewOutput() *Output { return &Output{ch: make(chan struct{}, 1)} }

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.buf.Write(p)
	o.mu.Unlock()
	select {
	case o.ch <- struct{}{}:
	default:
	}
	return len(p), nil
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Written is signalled after writes (at most one pending signal).
func (o *Output) Written() <-chan struct{} { return o.ch }

// Lines returns the complete lines written so far.
func (o *Output) Lines() []string {
	s := o.String()
	i := strings.LastIndexByte(s, '\n')
	if i < 0 {
		return nil
	}
	return strings.Split(s[:i], "\n")
}

// JSONLines decodes the lines that are JSON objects (the log records).
func (o *Output) JSONLines() []map[string]any {
	var out []map[string]any
	for _, l := range o.Lines() {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// LogProblems logs the server's warnings and errors (at most 40, each distinct message
// at most twice) to help explain a failure.
func (o *Output) LogProblems(tb testing.TB) {
	seen := map[string]int{}
	var lines []string
	for _, l := range o.JSONLines() {
		if l["level"] != "WARN" && l["level"] != "ERROR" {
			continue
		}
		key := fmt.Sprint(l["msg"], l["err"])
		if seen[key]++; seen[key] > 2 {
			continue
		}
		b, _ := json.Marshal(l)
		lines = append(lines, string(b))
	}
	for i, l := range lines {
		if i == 40 {
			tb.Logf("server: ... %d more", len(lines)-40)
			break
		}
		tb.Logf("server: %s", l)
	}
}

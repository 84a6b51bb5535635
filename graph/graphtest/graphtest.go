// Package graphtest serves the real /graphql handler over a real HTTP listener for
// tests, on a real database, and speaks GraphQL to it.
package graphtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph"
	"resolutioncenter/pubsub"
)

// PlatformToken is the operator token every test server accepts.
const PlatformToken = "test-platform-token"

// Server is a running API server.
type Server struct {
	URL      string // the /graphql endpoint
	DB       *db.DB
	Resolver *graph.Resolver
	Hub      *pubsub.Hub
	// Listener is the LISTEN connection on PostgreSQL, nil on SQLite.
	Listener *pubsub.Listener
}

// Options tune a test server; zero values take defaults.
type Options struct {
	Limits graph.Limits
	Policy *dispute.Policy
	Now    func() time.Time
}

// New starts a server on d, stopped when the test ends.
func New(tb testing.TB, d *db.DB, opts ...Options) *Server {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Limits == (graph.Limits{}) {
		o.Limits = graph.DefaultLimits
	}
	if o.Policy == nil {
		p := dispute.DefaultPolicy()
		o.Policy = &p
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{tb}, nil))
	}
	hub := pubsub.NewHub(d, logger)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hub.Run(ctx) }()
	listener := d.Feed(hub, logger)
	if listener != nil {
		go listener.Run(ctx)
	}
	res := &graph.Resolver{DB: d, Policy: o.Policy, Now: o.Now, Logger: logger, Hub: hub}
	authn := &auth.Authenticator{DB: d.Bun, PlatformToken: PlatformToken, CacheTTL: -1}
	mux := http.NewServeMux()
	mux.Handle("/graphql", graph.NewHTTPHandler(res, authn, o.Limits))
	ts := httptest.NewServer(mux)
	tb.Cleanup(func() {
		cancel()
		<-done
		ts.Close()
	})
	if listener != nil {
		deadline := time.Now().Add(10 * time.Second)
		for !listener.Up() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	return &Server{URL: ts.URL + "/graphql", DB: d, Resolver: res, Hub: hub, Listener: listener}
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Response is a decoded GraphQL response.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Do posts a query with variables as token ("" for none) and decodes the answer.
func (s *Server) Do(tb testing.TB, token, query string, vars map[string]any) Response {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r Response
	if err := json.Unmarshal(raw, &r); err != nil {
		tb.Fatalf("decode %q: %v", raw, err)
	}
	r.Status = resp.StatusCode
	return r
}

// MustData posts and fails the test on any error, decoding data into out.
func (s *Server) MustData(tb testing.TB, token, query string, vars map[string]any, out any) {
	tb.Helper()
	r := s.Do(tb, token, query, vars)
	if len(r.Errors) > 0 {
		tb.Fatalf("unexpected errors: %+v\nquery: %s", r.Errors, query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			tb.Fatalf("decode data %s: %v", r.Data, err)
		}
	}
}

// FirstCode returns the code of the first error, or "".
func (r Response) FirstCode() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Code()
}

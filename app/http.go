package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/graphiql"
	"resolutioncenter/observe"
)

// routes is every endpoint: the API, GraphiQL, metrics, health and readiness, behind
// the request-ID middleware.
func (a *App) routes(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/graphql", a.Metrics.CountRequests("graphql", a.Metrics.CountSSE(api)))
	const title = "Resolution Center"
	page := graphiql.Handler(title, "/graphql")
	mux.Handle("GET "+graphiql.AssetPrefix, page)
	if a.demo != nil {
		// The first embedded start: the page opens with the sample query and the demo
		// customer's token, for browsers on this machine only.
		demo := graphiql.New(title, "/graphql", graphiql.Options{Query: demoQuery(a.demo.CaseID),
			Headers: "{\n  \"Authorization\": \"Bearer " + a.demo.Customer + "\"\n}"})
		mux.Handle("GET /{$}", loopbackOr(demo, page))
	} else {
		mux.Handle("GET /{$}", page)
	}
	mux.Handle("GET /metrics", metricsHandler(a.Metrics, a.cfg.MetricsToken, false))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /readyz", readiness(a.DB, a.Listener))
	return observe.WithRequestID(mux)
}

// loopbackOr serves requests from a loopback address with local and all others with
// other.
func loopbackOr(local, other http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsLoopback() {
			local.ServeHTTP(w, r)
			return
		}
		other.ServeHTTP(w, r)
	})
}

// readiness answers 200 when the database answers, migrations are current and (on
// PostgreSQL) the LISTEN connection is up; 503 with the reason otherwise.
func readiness(d *db.DB, listener *db.Listener) http.Handler {
	var migrated atomic.Bool
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain")
		fail := func(msg string) {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, msg+"\n")
		}
		if err := d.Ping(ctx); err != nil {
			fail("database unreachable")
			return
		}
		if !migrated.Load() {
			pending, err := d.PendingMigrations(ctx)
			if err != nil || len(pending) > 0 {
				fail("migrations pending")
				return
			}
			migrated.Store(true)
		}
		if listener != nil && !listener.Up() {
			fail("LISTEN connection down")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
}

// metricsHandler serves the Prometheus metrics. With a token it answers only requests
// that present it (compared in constant time); without one it answers only when open
// (the loopback-only METRICS_ADDR), and is closed (404) on the API's address, where
// it would show every tenant's operation names to anyone.
func metricsHandler(m *observe.Metrics, token string, open bool) http.Handler {
	h := m.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case token != "":
			tok, present, ok := auth.BearerToken(r.Header.Get("Authorization"))
			if !present || !ok || !auth.SecretEqual(tok, token) {
				w.Header().Set("WWW-Authenticate", "Bearer")
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		case !open:
			http.Error(w, "metrics are closed here: set METRICS_TOKEN, or METRICS_ADDR for a loopback listener", http.StatusNotFound)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveMetrics serves /metrics on its own listener (METRICS_ADDR): without a token only
// on loopback (checked by ParseConfig), for a Prometheus beside the server.
func serveMetrics(addr string, m *observe.Metrics, token string, logger *slog.Logger) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("metrics listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler(m, token, true))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("metrics listener", "addr", ln.Addr().String())
	return ln.Addr().String(), func() { srv.Close() }, nil
}

// servePprof serves the runtime profiles on their own listener, off by default.
func servePprof(addr string, logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("pprof enabled", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}

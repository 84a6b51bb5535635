package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/graph"
	"resolutioncenter/graph/gqlhttp"
	"resolutioncenter/graphiql"
	"resolutioncenter/observe"
	"resolutioncenter/webhook"
)

// webhookSchemaPath serves the webhook payload's JSON Schema.
const webhookSchemaPath = "/webhooks/payload.schema.json"

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
	mux.Handle("GET /readyz", newReadiness(a.DB, a.Listener, a.cfg.ReadyFailAfter))
	// The webhook payload's JSON Schema, at the address of its $id's path, for
	// receivers to validate against or generate types from.
	mux.HandleFunc("GET "+webhookSchemaPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/schema+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(webhook.PayloadSchema)
	})
	return a.countInflight(graph.ClearWriteDeadline(observe.WithRequestID(mux)))
}

// loopbackOr serves with local the requests of a browser on this machine, and all
// others with other. Such a request comes from a loopback address, names a loopback
// host (a page of another name that resolves here, DNS rebinding, gets other), and
// carries no forwarding header (a proxy on this machine passes other machines'
// requests from loopback).
func loopbackOr(local, other http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		ip := net.ParseIP(host)
		if err == nil && ip != nil && ip.IsLoopback() && isLoopbackHost(r.Host) &&
			r.Header.Get("X-Forwarded-For") == "" && r.Header.Get("Forwarded") == "" && r.Header.Get("X-Real-IP") == "" {
			local.ServeHTTP(w, r)
			return
		}
		other.ServeHTTP(w, r)
	})
}

// isLoopbackHost reports whether a Host header names this machine: localhost or a
// loopback address, with or without a port.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// countInflight counts the requests being served, for shutdown to tell whether its
// grace period cut any off. WebSocket connections are counted apart (wsConns): the
// legacy ones hold their request until they close.
func (a *App) countInflight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gqlhttp.IsWebSocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		a.inflight.Add(1)
		defer a.inflight.Add(-1)
		next.ServeHTTP(w, r)
	})
}

// readiness is /readyz. It fails only on sustained unavailability: when the database
// has failed every check for failAfter, or (PostgreSQL) has answered while the LISTEN
// connection stayed down for failAfter; then it answers 503 with the reason, until the
// first check that finds the database (and LISTEN) back. A lone failed check (a killed
// connection, a restart of the database in progress) answers 200 with the failure
// noted: a load balancer that pulled a replica at the first failure would pull them
// all at once, on a blip every replica sees. Pending migrations fail it at once.
//
// Webhook delivery (River) does not count. The outbox is written by the API's own
// transactions on the pool checked here; delivery is background work that any replica
// does, or none (WEBHOOK_WORKERS=0); River's client cannot stop before shutdown, and
// when its LISTEN is down it polls. Pulling a replica would remove API capacity and
// deliver nothing sooner: a stuck delivery backlog is the business of
// rc_webhook_oldest_pending_seconds, an alert, not of the load balancer.
type readiness struct {
	db        *db.DB
	listener  *db.Listener
	failAfter time.Duration
	migrated  atomic.Bool

	mu         sync.Mutex
	dbDown     time.Time // first of the consecutive failed pings; zero when the last one worked
	listenDown time.Time // first check finding LISTEN down while the database answered
}

func newReadiness(d *db.DB, listener *db.Listener, failAfter time.Duration) *readiness {
	return &readiness{db: d, listener: listener, failAfter: failAfter}
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain")
	fail := func(msg string) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, msg+"\n")
	}
	ping := rd.db.Ping(ctx)
	if ping == nil && !rd.migrated.Load() {
		pending, err := rd.db.PendingMigrations(ctx)
		if err != nil || len(pending) > 0 {
			fail("migrations pending")
			return
		}
		rd.migrated.Store(true)
	}
	listenUp := rd.listener == nil || rd.listener.Up()
	down, why := rd.observe(time.Now(), ping == nil, listenUp)
	switch {
	case down > 0 && down >= rd.failAfter:
		fail(fmt.Sprintf("%s for %s", why, down.Round(time.Millisecond)))
	case down > 0:
		_, _ = fmt.Fprintf(w, "ready (%s for %s; failing after %s)\n", why, down.Round(time.Millisecond), rd.failAfter)
	default:
		_, _ = io.WriteString(w, "ready\n")
	}
}

// observe records one check and returns for how long the server has been unable to
// serve (0: it can) and why.
func (rd *readiness) observe(now time.Time, dbUp, listenUp bool) (time.Duration, string) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if !dbUp {
		rd.listenDown = time.Time{} // LISTEN counts only while the database answers
		if rd.dbDown.IsZero() {
			rd.dbDown = now
		}
		return max(now.Sub(rd.dbDown), time.Nanosecond), "database unreachable"
	}
	rd.dbDown = time.Time{}
	if listenUp {
		rd.listenDown = time.Time{}
		return 0, ""
	}
	if rd.listenDown.IsZero() {
		rd.listenDown = now
	}
	return max(now.Sub(rd.listenDown), time.Nanosecond), "LISTEN connection down"
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
		case !isLoopbackHost(r.Host):
			// The loopback listener without a token answers requests for this machine
			// by name only: a page of another name that resolves here (DNS rebinding)
			// in a local browser must not read it.
			http.Error(w, "metrics without METRICS_TOKEN answer requests for localhost only", http.StatusForbidden)
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

package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/deadline"
	"resolutioncenter/gctune"
	"resolutioncenter/graph"
	"resolutioncenter/graph/wsproto"
	"resolutioncenter/graphiql"
	"resolutioncenter/observe"
	"resolutioncenter/pubsub"
	"resolutioncenter/ratelimit"
	"resolutioncenter/seed"
)

// serve runs the HTTP server until ctx ends, then shuts down gracefully: it stops
// accepting, completes subscriptions, lets in-flight requests finish within the grace
// period, ends WebSockets, and closes the database.
func serve(ctx context.Context, cfg config, getenv func(string) string, stdout io.Writer) error {
	logger := newLogger(cfg.LogFormat, stdout)
	tp, shutdownTracing, err := observe.NewTracerProvider(ctx, getenv)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer shutdownTracing(context.WithoutCancel(ctx)) //nolint:errcheck
	tracer := tp.Tracer("resolutioncenter")
	if !observe.TracingEnabled(getenv) {
		tracer = nil
	}

	d, err := openAndMigrate(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	defer d.Close()
	metrics := observe.NewMetrics(sqlDB(d))
	metrics.SetInfo(string(d.Engine))
	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.PprofAddr, logger)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	if cfg.GCHeadroomMB > 0 {
		base := 0 // GOGC's
		if getenv("GOGC") == "" {
			// With the garbage bounded by the headroom, collect a small heap even
			// less often than main's default: about 15% more list throughput.
			base = 400
		}
		defer gctune.Process(base, uint64(cfg.GCHeadroomMB)<<20)()
	}
	d.Bun = d.Bun.WithQueryHook(observe.QueryHook{Metrics: metrics, Tracer: tracer})
	policy := cfg.policy()
	if cfg.Seed && d.Engine == db.SQLite {
		if err := seedDemoIfEmpty(ctx, d, cfg, stdout); err != nil {
			return err
		}
	}

	// Background work lives until the HTTP server has drained.
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	defer func() { stopBackground(); bg.Wait() }()

	hub := pubsub.NewHub(d, logger)
	hub.OnDeliver = metrics.ObserveFanout
	hub.OnDrop = metrics.SlowDropped.Inc
	hubCtx, stopHub := context.WithCancel(bgCtx)
	defer stopHub()
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(hubCtx) }()
	listener := d.Feed(hub, logger)
	if listener != nil {
		bg.Add(1)
		go func() { defer bg.Done(); listener.Run(bgCtx) }()
	} else {
		metrics.ListenUp.Set(1)
	}

	sweeper := &deadline.Sweeper{DB: d, Policy: *policy, Now: time.Now, Interval: cfg.SweepInterval, Logger: logger,
		OnSweep: func(n int, err error) {
			if err != nil {
				metrics.DeadlineSweeps.WithLabelValues("error").Inc()
			} else {
				metrics.DeadlineSweeps.WithLabelValues("ok").Inc()
			}
			metrics.DeadlineChanges.Add(float64(n))
			if listener != nil {
				metrics.ListenUp.Set(boolFloat(listener.Up()))
			}
		}}
	bg.Add(1)
	go func() { defer bg.Done(); sweeper.Run(bgCtx) }()

	res := &graph.Resolver{DB: d, Policy: policy, Now: time.Now, Logger: logger, Hub: hub,
		MaxSubscriptionsPerPrincipal: cfg.MaxSubsPerPrincipal}
	authn := &auth.Authenticator{DB: d.Bun, PlatformToken: cfg.PlatformToken}
	// baseCtx is the lifetime of connections: WebSockets end when it is canceled, after
	// ordinary requests have drained.
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	var wsConns sync.WaitGroup
	var limiter *ratelimit.Limiter
	if cfg.RateLimit > 0 {
		limiter = ratelimit.New(cfg.RateLimit, cfg.RateBurst)
	}
	api := graph.NewAPI(res, authn, graph.Options{Limits: cfg.Limits, Metrics: metrics, Tracer: tracer,
		RateLimiter: limiter, APQCacheSize: cfg.APQCacheSize, DisableSuggestions: !cfg.Suggestions,
		CORSOrigins: cfg.CORSOrigins, RequestTimeout: cfg.RequestTimeout,
		WebSocket: wsproto.Options{AllowedOrigins: append(append([]string{}, wsproto.DefaultAllowedOrigins...), cfg.WSOrigins...),
			InitTimeout: cfg.WSInitTimeout, BaseContext: baseCtx, Logger: logger, Conns: &wsConns,
			OnConn: func(d int) { metrics.Connections.WithLabelValues("websocket").Add(float64(d)) }}})
	metrics.WatchSubscriptions(func() (int, int) { st := hub.Stats(); return st.EventSubscribers, st.UpdateSubscribers })

	mux := http.NewServeMux()
	mux.Handle("/graphql", metrics.CountRequests("graphql", metrics.CountSSE(api)))
	graphiql.Mount(mux, "Resolution Center", "/graphql")
	mux.Handle("GET /metrics", metrics.Handler(cfg.MetricsToken))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /readyz", readiness(d, listener))

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           observe.WithRequestID(mux),
		ReadHeaderTimeout: cfg.HeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "listening on http://%s (GraphiQL at /, API at /graphql, engine %s)\n", displayAddr(ln.Addr()), d.Engine)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", cfg.ShutdownGrace)
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	// Stop accepting and let ordinary requests finish, while subscriptions complete
	// cleanly: the hub ends every stream, so SSE responses return and WebSockets send
	// complete; then the hijacked WebSocket connections are ended through their context.
	shutErr := make(chan error, 1)
	go func() { shutErr <- srv.Shutdown(shutCtx) }()
	stopHub()
	<-hubDone
	err = <-shutErr
	cancelBase()
	// WebSockets now send their last complete and a 1001 close; wait for them, within
	// what is left of the grace period (and at least a moment).
	wsDone := make(chan struct{})
	go func() { wsConns.Wait(); close(wsDone) }()
	wait := max(time.Until(deadlineOf(shutCtx)), 3*time.Second)
	select {
	case <-wsDone:
	case <-time.After(wait):
		logger.Warn("shutdown: WebSocket connections still open after the grace period")
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// readiness answers 200 when the database answers, migrations are current and (on
// PostgreSQL) the LISTEN connection is up; 503 with the reason otherwise.
func readiness(d *db.DB, listener *pubsub.Listener) http.Handler {
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

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// sqlDB returns the database/sql handle under bun, for pool statistics.
func sqlDB(d *db.DB) *sql.DB { return d.Bun.DB }

func openAndMigrate(ctx context.Context, cfg config, stdout io.Writer) (*db.DB, error) {
	d, err := db.Open(ctx, cfg.DatabaseURL, db.WithStatementTimeout(cfg.StatementTimeout))
	if err != nil {
		return nil, err
	}
	applied, err := d.Migrate(ctx)
	if err != nil {
		d.Close()
		return nil, err
	}
	for _, name := range applied {
		fmt.Fprintf(stdout, "applied migration %s\n", name)
	}
	return d, nil
}

func migrateOnly(ctx context.Context, cfg config, stdout io.Writer) error {
	d, err := openAndMigrate(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(stdout, "database %s is up to date\n", d.URL)
	return nil
}

func seedDemoIfEmpty(ctx context.Context, d *db.DB, cfg config, stdout io.Writer) error {
	empty, err := db.IsEmpty(ctx, d.Bun)
	if err != nil || !empty {
		return err
	}
	toks, err := seed.Demo(ctx, d, *cfg.policy(), time.Now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	fmt.Fprintf(stdout, `
Seeded demo data. These tokens are shown only this once:
  customer  %s
  merchant  %s
  platform  %s
Open GraphiQL, put {"Authorization": "Bearer <token>"} in the Headers tab, and try:
  { resolution(id: "%s") { status issue dueDate viewerActions user { username } company { title } resolutionEvents { action reporterType details } } }

`, toks.Customer, toks.Merchant, toks.Platform, toks.CaseID)
	return nil
}

func newLogger(format string, out io.Writer) *slog.Logger {
	if format == "json" || (format == "auto" && !isTerminal(out)) {
		return slog.New(slog.NewJSONHandler(out, nil))
	}
	return slog.New(slog.NewTextHandler(out, nil))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}

func maskURL(v string) string { return db.MaskURL(v) }

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

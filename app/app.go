package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/deadline"
	"resolutioncenter/graph"
	"resolutioncenter/graph/wsproto"
	"resolutioncenter/observe"
	"resolutioncenter/pubsub"
	"resolutioncenter/ratelimit"
	"resolutioncenter/seed"
)

// App is one server process: the database, the hub that fans committed changes out to
// subscriptions, the change feed that fills it, the deadline sweeper, and the HTTP
// server with every endpoint. New builds and starts it; Serve answers requests until
// its context ends and then shuts down gracefully; Close releases what is left.
type App struct {
	cfg    Config
	logger *slog.Logger

	// DB is the database the server uses.
	DB *db.DB
	// Hub fans committed changes out to subscribers.
	Hub *pubsub.Hub
	// Listener is the LISTEN connection on PostgreSQL; nil on SQLite.
	Listener *db.Listener
	// Resolver holds the GraphQL resolvers' dependencies.
	Resolver *graph.Resolver
	// Metrics are the server's Prometheus collectors.
	Metrics *observe.Metrics
	// Authenticator turns credentials into principals and watches long-lived sessions.
	Authenticator *auth.Authenticator
	// Limiter is the per-principal rate limiter; nil when rate limiting is off.
	Limiter *ratelimit.Limiter
	// WriteLimiter is the per-principal mutation limiter; nil when it is off.
	WriteLimiter *ratelimit.Limiter

	// demo holds the demo tokens when this start seeded them (the first embedded
	// start), for GraphiQL's pre-filled page; nil otherwise.
	demo *seed.DemoTokens

	handler     http.Handler
	ln          net.Listener
	metricsAddr string
	srv         *http.Server

	// base is the lifetime of connections: WebSockets end when it is canceled, after
	// ordinary requests have drained.
	base       context.Context
	cancelBase context.CancelFunc
	wsConns    wsproto.ConnGroup
	// inflight counts the HTTP requests being served (see countInflight).
	inflight atomic.Int64

	stopHub        context.CancelFunc
	hubDone        chan struct{}
	stopBackground context.CancelFunc
	background     sync.WaitGroup
	// stopWebhooks stops the webhook delivery workers, letting the deliveries in flight
	// finish within ctx (nil when they do not run).
	stopWebhooks func(ctx context.Context)

	closers   []func()
	closeOnce sync.Once
}

// New opens and migrates the database (or takes cfg.DB), seeds the demo data on a
// first embedded start, starts the hub, the change feed and the sweeper, builds the
// HTTP handler and listens on cfg.Addr. Call Serve to answer requests, and Close.
func New(ctx context.Context, cfg Config) (a *App, err error) {
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.Getenv == nil {
		cfg.Getenv = func(string) string { return "" }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a = &App{cfg: cfg, logger: newLogger(cfg.LogFormat, cfg.Out)}
	// built is what the failure path closes: every "return nil, err" below has
	// already set the named result a to nil when this runs.
	built := a
	defer func() {
		if err != nil {
			built.Close()
			a = nil
		}
	}()

	tp, shutdownTracing, err := observe.NewTracerProvider(ctx, cfg.Getenv)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	a.onClose(func() { _ = shutdownTracing(context.WithoutCancel(ctx)) })
	tracer := cfg.Tracer
	if tracer == nil && observe.TracingEnabled(cfg.Getenv) {
		tracer = tp.Tracer("resolutioncenter")
	}

	a.Metrics = observe.NewMetrics()
	if a.DB = cfg.DB; a.DB == nil {
		if a.DB, err = openAndMigrate(ctx, cfg); err != nil {
			return nil, err
		}
		d := a.DB
		a.onClose(func() { d.Close() })
	}
	a.onClose(a.DB.AddQueryHook(observe.QueryHook{Metrics: a.Metrics, Tracer: tracer}))
	a.Metrics.WatchDB(a.DB.SQL())
	a.Metrics.SetInfo(string(a.DB.Engine))
	if cfg.MetricsAddr != "" {
		addr, stop, err := serveMetrics(cfg.MetricsAddr, a.Metrics, cfg.MetricsToken, a.logger)
		if err != nil {
			return nil, err
		}
		a.metricsAddr = addr
		a.onClose(stop)
	}
	if cfg.PprofAddr != "" {
		stop, err := servePprof(cfg.PprofAddr, a.logger)
		if err != nil {
			return nil, err
		}
		a.onClose(stop)
	}
	if cfg.Seed && a.DB.Engine == db.SQLite {
		if a.demo, err = seedDemoIfEmpty(ctx, a.DB, cfg, cfg.Out); err != nil {
			return nil, err
		}
	}

	cacheTTL := cfg.AuthCacheTTL
	if cacheTTL == 0 {
		cacheTTL = -1 // no cache
	}
	authn := &auth.Authenticator{Store: a.DB, PlatformToken: cfg.PlatformToken, CacheTTL: cacheTTL, Logger: a.logger,
		Throttle: &auth.Throttle{Rate: cfg.AuthFailureRate, Burst: cfg.AuthFailureBurst}}
	if cfg.OIDC.Issuer != "" {
		o, err := auth.NewOIDC(ctx, cfg.OIDC)
		if err != nil {
			return nil, err
		}
		a.onClose(o.Close)
		authn.OIDC = o
		a.logger.Info("sign-in tokens accepted", "issuer", cfg.OIDC.Issuer, "jwks", o.JWKSURL())
	}
	// Revocations committed by any process reach the authenticator's cache and its
	// watched sessions (WebSockets, SSE streams) through the change feed.
	a.DB.WatchRevocations(authn)
	a.Authenticator = authn

	a.startBackground(cfg)
	hooks, err := a.startWebhooks(ctx, cfg, tracer)
	if err != nil {
		return nil, err
	}
	policy := cfg.Policy()
	a.Resolver = &graph.Resolver{DB: a.DB, Policy: policy, Now: cfg.Now, Logger: a.logger, Hub: a.Hub,
		MaxSubscriptionsPerPrincipal: cfg.MaxSubsPerPrincipal, Webhooks: hooks}
	if cfg.RateLimit > 0 {
		a.Limiter = ratelimit.New(cfg.RateLimit, cfg.RateBurst)
		a.Limiter.Now = cfg.Now
	}
	var docs *graph.Documents
	if cfg.PersistedDocuments != "" {
		if docs, err = graph.LoadDocuments(cfg.PersistedDocuments); err != nil {
			return nil, err
		}
		mode := "alongside free-form queries"
		if cfg.PersistedOnly {
			mode = "only these run"
		}
		fmt.Fprintf(cfg.Out, "trusted documents: %d from %s (%s)\n", docs.Len(), cfg.PersistedDocuments, mode)
	}
	if cfg.MutationRate > 0 {
		a.WriteLimiter = ratelimit.New(cfg.MutationRate, cfg.MutationBurst)
		a.WriteLimiter.Now = cfg.Now
	}
	a.base, a.cancelBase = context.WithCancel(context.WithoutCancel(ctx))
	api := graph.NewAPI(a.Resolver, authn, graph.Options{Limits: cfg.Limits, Metrics: a.Metrics, Tracer: tracer,
		RateLimiter: a.Limiter, WriteLimiter: a.WriteLimiter, APQCacheSize: cfg.APQCacheSize, DisableSuggestions: !cfg.Suggestions,
		Documents: docs, PersistedOnly: cfg.PersistedOnly,
		CORSOrigins: cfg.CORSOrigins, DevMode: cfg.DevMode, RequestTimeout: cfg.RequestTimeout, TrustedProxies: cfg.TrustedProxies,
		WriteTimeout: cfg.WriteTimeout, QueryPlanner: cfg.QueryPlanner, SSEKeepAlive: cfg.SSEKeepAlive,
		WebSocket: wsproto.Options{AllowedOrigins: wsOrigins(cfg),
			InitTimeout: cfg.WSInitTimeout, WriteTimeout: cfg.WriteTimeout, BaseContext: a.base, Logger: a.logger, Conns: &a.wsConns,
			OnConn: func(protocol string, d int) {
				a.Metrics.Connections.WithLabelValues(streamTransport(protocol)).Add(float64(d))
			}}})
	a.Metrics.WatchSubscriptions(func() (int, int) { st := a.Hub.Stats(); return st.EventSubscribers, st.UpdateSubscribers })
	a.handler = a.routes(api)

	if a.ln, err = listen(ctx, cfg.Addr, cfg.WriteTimeout); err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	a.srv = &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: cfg.HeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return a.base },
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	return a, nil
}

// listen opens the API's listener: its connections close when data written to them
// stays unacknowledged for writeTimeout (see userTimeout), the WRITE_TIMEOUT that a
// write deadline alone bounds only until the kernel takes the bytes.
func listen(ctx context.Context, addr string, writeTimeout time.Duration) (net.Listener, error) {
	lc := net.ListenConfig{Control: userTimeout(writeTimeout)}
	return lc.Listen(ctx, "tcp", addr)
}

// wsOrigins are the browser origins allowed to open WebSockets besides the same origin:
// WS_ORIGINS and the CORS_ORIGINS a frontend was given for HTTP (so that a page allowed
// to query may also subscribe). In development mode graph also allows loopback origins,
// by the rule of HTTP's CORS (wsproto.Options.AllowLoopback).
func wsOrigins(cfg Config) []string {
	out := []string{}
	out = append(out, cfg.WSOrigins...)
	for _, o := range cfg.CORSOrigins {
		if strings.Contains(o, "://") || o == "*" {
			out = append(out, o)
		}
	}
	return out
}

// startBackground starts the hub, the change feed that fills it, and the sweeper. They
// live until Serve has drained the HTTP server, or until Close.
func (a *App) startBackground(cfg Config) {
	bgCtx, stop := context.WithCancel(context.Background())
	a.stopBackground = stop
	a.Hub = pubsub.NewHub(a.DB, a.logger)
	a.Hub.OnDeliver = a.Metrics.ObserveFanout
	a.Hub.OnDrop = a.Metrics.SlowDropped.Inc
	hubCtx, stopHub := context.WithCancel(bgCtx)
	a.stopHub, a.hubDone = stopHub, make(chan struct{})
	go func() { defer close(a.hubDone); a.Hub.Run(hubCtx) }()
	a.Listener = a.DB.Feed(a.Hub, a.logger)
	if l := a.Listener; l != nil {
		a.background.Add(1)
		go func() { defer a.background.Done(); l.Run(bgCtx) }()
		a.Metrics.WatchListen(l.Up, l.Reconnects.Load)
	} else {
		a.Metrics.WatchListen(func() bool { return true }, func() int64 { return 0 })
	}
	sweeper := &deadline.Sweeper{DB: a.DB, Policy: *cfg.Policy(), Now: cfg.Now, Interval: cfg.SweepInterval, Logger: a.logger,
		WebhookRetention: cfg.WebhookDeliveryRetention,
		OnSweep: func(n int, err error) {
			if err != nil {
				a.Metrics.DeadlineSweeps.WithLabelValues("error").Inc()
			} else {
				a.Metrics.DeadlineSweeps.WithLabelValues("ok").Inc()
			}
			a.Metrics.DeadlineChanges.Add(float64(n))
		}}
	if cfg.SweepInterval > 0 {
		a.background.Add(1)
		go func() { defer a.background.Done(); sweeper.Run(bgCtx) }()
	}
}

// Addr is the address the server listens on (host:port).
func (a *App) Addr() string { return a.ln.Addr().String() }

// URL is the server's base URL, http://host:port.
func (a *App) URL() string { return "http://" + a.Addr() }

// MetricsAddr is the address of the separate metrics listener (METRICS_ADDR), or "".
func (a *App) MetricsAddr() string { return a.metricsAddr }

// Handler is the server's whole HTTP handler (every endpoint).
func (a *App) Handler() http.Handler { return a.handler }

// Logger is the server's logger.
func (a *App) Logger() *slog.Logger { return a.logger }

// Serve answers requests until ctx ends, then shuts down gracefully: it stops
// accepting, completes subscriptions, lets in-flight requests finish within the grace
// period, ends WebSockets, and stops the background work. Close the App afterwards.
func (a *App) Serve(ctx context.Context) error {
	fmt.Fprintf(a.cfg.Out, "listening on http://%s (GraphiQL at /, API at /graphql, engine %s)\n", displayAddr(a.ln.Addr()), a.DB.Engine)
	errc := make(chan error, 1)
	go func() { errc <- a.srv.Serve(a.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.logger.Info("shutting down", "grace", a.cfg.ShutdownGrace)
	shutCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
	defer cancel()
	// Stop accepting and let ordinary requests finish, while subscriptions complete
	// cleanly: the hub ends every stream, so SSE responses return and WebSockets send
	// complete; then the hijacked WebSocket connections are ended through their context.
	shutErr := make(chan error, 1)
	go func() { shutErr <- a.srv.Shutdown(shutCtx) }()
	// Webhook delivery stops meanwhile, within the same grace period: the deliveries in
	// flight may finish, and those still running when it ends are cancelled (their
	// leases expire and a replica, or the next start, sends them again). Requests still
	// draining enqueue their changes' deliveries as before: the queue is in the database.
	webhooksDone := make(chan struct{})
	go func() { defer close(webhooksDone); a.stopWebhooksOnce(shutCtx) }()
	a.stopHub()
	<-a.hubDone
	err := <-shutErr
	// The requests still running when the grace period ended are cut off: their
	// contexts end now. Count them first: once cancelled, one returns (CANCELED) at
	// once, and counted later it would not be (the process then exited 0 having cut a
	// request off, now and then: TestE2ESIGTERMCutOffExitsNonZero).
	var cut int64
	if errors.Is(err, context.DeadlineExceeded) {
		cut = a.inflight.Load()
	}
	a.cancelBase()
	// WebSockets now send their last complete and a 1001 close; wait for them, within
	// what is left of the grace period (and at least a moment).
	wsDone := a.wsConns.Close()
	deadline, _ := shutCtx.Deadline()
	wsCut := false
	select {
	case <-wsDone:
	case <-time.After(max(time.Until(deadline), 3*time.Second)):
		wsCut = true
		a.logger.Warn("shutdown: WebSocket connections still open after the grace period")
	}
	a.stopBackground()
	a.background.Wait()
	<-webhooksDone
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	// What is still being served now is cut off when the server closes.
	n := max(cut, a.inflight.Load())
	switch {
	case n > 0 && wsCut:
		return fmt.Errorf("%w: %d requests in flight and WebSocket connections open after SHUTDOWN_GRACE (%s)", ErrShutdownCut, n, a.cfg.ShutdownGrace)
	case n > 0:
		return fmt.Errorf("%w: %d requests in flight after SHUTDOWN_GRACE (%s)", ErrShutdownCut, n, a.cfg.ShutdownGrace)
	case wsCut:
		return fmt.Errorf("%w: WebSocket connections open after SHUTDOWN_GRACE (%s)", ErrShutdownCut, a.cfg.ShutdownGrace)
	}
	return nil
}

// ErrShutdownCut is what Serve returns when the shutdown grace period ended before
// every request had finished: those were cut off (the process then exits non-zero).
var ErrShutdownCut = errors.New("shutdown cut requests off")

// Close stops what is still running and releases the database, the listener and the
// tracer. It is safe to call more than once, with or without Serve.
func (a *App) Close() {
	a.closeOnce.Do(func() {
		if a.srv != nil {
			_ = a.srv.Close()
		} else if a.ln != nil {
			_ = a.ln.Close()
		}
		if a.cancelBase != nil {
			a.cancelBase()
		}
		if a.stopHub != nil {
			a.stopHub()
			<-a.hubDone
		}
		if a.stopBackground != nil {
			a.stopBackground()
			a.background.Wait()
		}
		// Without Serve's shutdown, deliveries in flight get no time to finish.
		now, cancel := context.WithCancel(context.Background())
		cancel()
		a.stopWebhooksOnce(now)
		for i := len(a.closers) - 1; i >= 0; i-- {
			a.closers[i]()
		}
	})
}

func (a *App) onClose(f func()) { a.closers = append(a.closers, f) }

// stopWebhooksOnce stops the delivery workers, if they run, within ctx.
func (a *App) stopWebhooksOnce(ctx context.Context) {
	if f := a.stopWebhooks; f != nil {
		a.stopWebhooks = nil
		f(ctx)
	}
}

func openAndMigrate(ctx context.Context, cfg Config) (*db.DB, error) {
	d, err := db.Open(ctx, cfg.DatabaseURL, db.WithStatementTimeout(cfg.StatementTimeout))
	if err != nil {
		return nil, err
	}
	start := time.Now()
	applied, err := d.Migrate(ctx)
	if err != nil {
		d.Close()
		return nil, err
	}
	for _, name := range applied {
		fmt.Fprintf(cfg.Out, "applied migration %s\n", name)
	}
	if len(applied) > 0 {
		fmt.Fprintf(cfg.Out, "migrations took %s\n", time.Since(start).Round(time.Millisecond))
	}
	return d, nil
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

// streamTransport is the rc_stream_connections label of a WebSocket protocol:
// websocket for graphql-transport-ws, graphql-ws for the legacy protocol.
func streamTransport(protocol string) string {
	if protocol == wsproto.LegacySubprotocol {
		return "graphql-ws"
	}
	return "websocket"
}

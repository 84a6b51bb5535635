package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/deadline"
	"resolutioncenter/graph"
	"resolutioncenter/graphiql"
	"resolutioncenter/pubsub"
	"resolutioncenter/seed"
)

// serve runs the HTTP server until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, cfg config, stdout io.Writer) error {
	logger := newLogger(cfg.LogFormat, stdout)
	d, err := openAndMigrate(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	defer d.Close()
	policy := cfg.policy()
	if cfg.Seed && d.Engine == db.SQLite {
		if err := seedDemoIfEmpty(ctx, d, cfg, stdout); err != nil {
			return err
		}
	}
	hub := pubsub.NewHub(d, logger)
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(hubCtx) }()
	defer func() { stopHub(); <-hubDone }()
	var listener *pubsub.Listener
	if d.Engine == db.Postgres {
		listener = &pubsub.Listener{Config: d.ListenConfig(), Channel: db.NotifyChannel, Hub: hub, Logger: logger,
			Parse: func(s string) (pubsub.Notice, error) { n, err := db.ParseNotice(s); return pubsub.Notice(n), err }}
		go listener.Run(hubCtx)
	} else {
		d.OnCommit = func(n db.Notice) { hub.Notify(pubsub.Notice(n)) }
	}
	res := &graph.Resolver{DB: d, Policy: policy, Now: time.Now, Logger: logger, Hub: hub}
	authn := &auth.Authenticator{DB: d.Bun, PlatformToken: cfg.PlatformToken}
	sweeper := &deadline.Sweeper{DB: d, Policy: *policy, Now: time.Now, Interval: cfg.SweepInterval, Logger: logger}
	sweepCtx, stopSweep := context.WithCancel(ctx)
	sweepDone := make(chan struct{})
	go func() { defer close(sweepDone); sweeper.Run(sweepCtx) }()
	defer func() { stopSweep(); <-sweepDone }()

	mux := http.NewServeMux()
	mux.Handle("/graphql", graph.NewHTTPHandler(res, authn, cfg.Limits))
	graphiql.Mount(mux, "Resolution Center", "/graphql")
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain")
		if err := d.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "database unreachable\n")
			return
		}
		if listener != nil && !listener.Up() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "LISTEN connection down\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
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
	err = srv.Shutdown(shutCtx)
	// WebSockets are hijacked and not tracked by Shutdown: end them through their context.
	cancelBase()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func openAndMigrate(ctx context.Context, cfg config, stdout io.Writer) (*db.DB, error) {
	d, err := db.Open(ctx, cfg.DatabaseURL)
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

func seedCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("seed: not implemented yet")
}

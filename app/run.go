package app

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/gctune"
	"resolutioncenter/seed"
)

// Run is the whole program: it reads the subcommand (serve, the default; migrate;
// seed; recount; help) from args, its settings from args and getenv, and runs it until ctx ends.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := ParseConfig("serve", args, getenv, stdout)
		if err != nil {
			return err
		}
		return serve(ctx, cfg)
	case "migrate":
		defaultGC(getenv, 200)
		cfg, err := ParseConfig("migrate", args, getenv, stdout)
		if err != nil {
			return err
		}
		d, err := openAndMigrate(ctx, cfg)
		if err != nil {
			return err
		}
		defer d.Close()
		fmt.Fprintf(stdout, "database %s is up to date\n", d.URL)
		return nil
	case "seed":
		defaultGC(getenv, 200)
		return seedCommand(ctx, args, getenv, stdout)
	case "recount":
		return recountCommand(ctx, args, getenv, stdout)
	case "help":
		_, err := ParseConfig("serve", []string{"-help"}, getenv, stdout)
		return err
	}
	return fmt.Errorf("unknown command %q: want serve, migrate, seed or recount", cmd)
}

// serve runs a server until ctx ends.
func serve(ctx context.Context, cfg Config) error {
	if cfg.GCHeadroomMB > 0 {
		// With the garbage bounded by the headroom, collect a small heap less often
		// than Go's default: the GraphQL layer allocates many short-lived objects per
		// request, and this saves about 15% of the list benchmark's CPU.
		base := 0 // GOGC's own
		if cfg.Getenv("GOGC") == "" {
			base = 400
		}
		defer gctune.Process(base, uint64(cfg.GCHeadroomMB)<<20)()
	} else {
		defaultGC(cfg.Getenv, 200)
	}
	logger := newLogger(cfg.LogFormat, cfg.Out)
	useLogger(ctx, logger)
	a, err := New(ctx, cfg)
	if err != nil {
		// A stop signal during start-up (migrations, connecting, before listening)
		// stops the server before it served: an orderly stop, not a failure.
		if stoppedDuringStartup(ctx, err) {
			logger.Info("stopped during start-up", "cause", context.Cause(ctx).Error(), "err", err.Error())
			return nil
		}
		return err
	}
	defer a.Close()
	return a.Serve(ctx)
}

// defaultGC sets the collector's percent when GOGC does not.
func defaultGC(getenv func(string) string, percent int) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
}

// seedDemoIfEmpty seeds the demo data into an empty database and prints its tokens.
// It returns them (nil when the database was not empty), so that GraphiQL can open
// with the sample query and the customer's token.
func seedDemoIfEmpty(ctx context.Context, d *db.DB, cfg Config, stdout io.Writer) (*seed.DemoTokens, error) {
	empty, err := d.IsEmpty(ctx)
	if err != nil {
		return nil, err
	}
	if !empty {
		fmt.Fprintf(stdout, "The database already has data, so no demo data was seeded. Lost the demo tokens? "+
			"`go run . seed -demo-tokens` (with the same DATABASE_URL) mints fresh ones.\n")
		return nil, nil
	}
	toks, err := seed.Demo(ctx, d, *cfg.Policy(), time.Now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("seed demo data: %w", err)
	}
	fmt.Fprintf(stdout, `
Seeded demo data. These tokens are shown only this once:
  customer  %s
  merchant  %s
  platform  %s
Open GraphiQL, put {"Authorization": "Bearer <token>"} in the Headers tab, and try:
  %s
Until this server stops, GraphiQL opens with that query and the customer's token for
browsers on this machine (loopback); GraphiQL keeps the headers across reloads.

`, toks.Customer, toks.Merchant, toks.Platform, demoQuery(toks.CaseID))
	return &toks, nil
}

// demoQuery is the sample query printed after seeding, and pre-filled in GraphiQL.
func demoQuery(caseID string) string {
	return `{ resolution(id: "` + caseID + `") { status issue dueDate viewerActions user { username } company { title } resolutionEvents { action reporterType details } } }`
}

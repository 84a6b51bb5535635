package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"resolutioncenter/db"
)

// ErrCountsDiffer is what `recount -check` returns when the case counts differ from
// the cases (the process exits non-zero).
var ErrCountsDiffer = db.ErrCountsDiffer

// recountCommand compares the case counts with the cases and, when they differ (cases
// changed behind the server's back: by hand, or by a process of an older build after
// the counts' migration), rebuilds them; with -check it only reports. Writers of cases
// wait while it rebuilds.
func recountCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("recount", flag.ContinueOnError)
	fs.SetOutput(stdout)
	check := fs.Bool("check", false, "only compare: report the differences and exit non-zero if there are any")
	dbURL := fs.String("database-url", "",
		"postgres://... for PostgreSQL; empty for the SQLite file "+db.DefaultSQLitePath+"; sqlite:PATH for another file (default $DATABASE_URL)")
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: resolutioncenter recount [flags]\n\nChecks the case counts behind resolutionSummary and totalCount against the cases, and rebuilds them if they differ (migrating the database first).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ErrHelp
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("recount: unexpected arguments %q", fs.Args())
	}
	if *dbURL == "" {
		*dbURL = getenv("DATABASE_URL")
	}
	d, err := openAndMigrate(ctx, Config{DatabaseURL: *dbURL, Out: stdout})
	if err != nil {
		return err
	}
	defer d.Close()
	diff := d.CheckCounts(ctx)
	switch {
	case diff == nil:
		fmt.Fprintln(stdout, "the case counts match the cases")
		return nil
	case !errors.Is(diff, db.ErrCountsDiffer):
		return diff
	case *check:
		return diff
	}
	fmt.Fprintln(stdout, diff)
	start := time.Now()
	if err := d.RecountCases(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "case counts rebuilt in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

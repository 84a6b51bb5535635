package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/seed"
)

// seedCommand fills a database: by default with a large deterministic data set for
// benchmarks (seed.Bulk), with -demo with the small demo data set and its tokens.
func seedCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stdout)
	cases := fs.Int("cases", 10000, "number of cases to generate")
	seedN := fs.Int64("seed", 1, "random seed: the same seed gives the same data")
	companies := fs.Int("companies", 0, "number of companies (0: cases/2000, between 5 and 2000)")
	users := fs.Int("users", 0, "number of customers (0: cases/3, at least 20)")
	batch := fs.Int("batch", 0, "cases per transaction (0: 10000)")
	demo := fs.Bool("demo", false, "seed the demo data set into an empty database and print its tokens instead")
	demoTokens := fs.Bool("demo-tokens", false, "mint and print fresh tokens for the demo data already in the database (the customer, the merchant's API key, a platform key)")
	dbURL := fs.String("database-url", "",
		"postgres://... for PostgreSQL; empty for the SQLite file "+db.DefaultSQLitePath+"; sqlite:PATH for another file (default $DATABASE_URL)")
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: resolutioncenter seed [flags]\n\nAppends generated companies, users, payments and cases to the database (migrating it first).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ErrHelp
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("seed: unexpected arguments %q", fs.Args())
	}
	if *dbURL == "" {
		*dbURL = getenv("DATABASE_URL")
	}
	if *cases < 0 {
		return errors.New("seed: -cases must not be negative")
	}

	d, err := openAndMigrate(ctx, Config{DatabaseURL: *dbURL, Out: stdout})
	if err != nil {
		return err
	}
	defer d.Close()

	start := time.Now()
	if *demoTokens {
		toks, err := seed.DemoTokensAgain(ctx, d, time.Now().UTC())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "fresh demo tokens for %s (shown only this once; the earlier ones keep working until revoked):\n  customer  %s\n  merchant  %s\n  platform  %s\ncase all three can see: %s\n",
			d.URL, toks.Customer, toks.Merchant, toks.Platform, toks.CaseID)
		return nil
	}
	if *demo {
		toks, err := seed.Demo(ctx, d, dispute.DefaultPolicy(), time.Now().UTC().Truncate(time.Millisecond))
		if err != nil {
			return fmt.Errorf("%w (lost the demo tokens? seed -demo-tokens mints fresh ones)", err)
		}
		fmt.Fprintf(stdout, "seeded the demo data into %s in %s\n", d.URL, time.Since(start).Round(time.Millisecond))
		fmt.Fprintf(stdout, "tokens (shown only this once):\n  customer  %s\n  merchant  %s\n  platform  %s\ncase all three can see: %s\n",
			toks.Customer, toks.Merchant, toks.Platform, toks.CaseID)
		return nil
	}
	st, err := seed.BulkWithStats(ctx, d, seed.Options{Cases: *cases, Seed: *seedN, Companies: *companies,
		Users: *users, BatchSize: *batch}, stdout)
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "seeded %d companies, %d users, %d team members, %d memberships, %d payments, %d cases, %d events\n",
		st.Companies, st.Users, st.TeamMembers, st.Memberships, st.Payments, st.Cases, st.Events)
	fmt.Fprintf(stdout, "%d rows in %s: %.0f rows/s\n", st.Rows(), el.Round(time.Millisecond), float64(st.Rows())/el.Seconds())
	return nil
}

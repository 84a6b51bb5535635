// Command bench is the resolution center's load tool: it runs scenarios against a live
// server on either engine (or one it spawns) and prints requests per second, latency
// percentiles, errors, SQL statements per request and the server's CPU and memory.
// It only ever connects to loopback addresses. See BENCHMARKS.md.
//
//	go run ./bench -scenario list -url http://127.0.0.1:8080/graphql -token $PLATFORM_TOKEN -c 20 -d 30s
//	go run ./bench -smoke    # every scenario for ~1.5 s against a spawned SQLite server (CI)
//	go run ./bench -peer -spawn -database-url postgres://postgres@127.0.0.1:5432/rc_bench1m -c 16 -d 20s
//	                         # list and detail, alternating with PostGraphile v5 (cd bench/peer && npm ci)
//
// bench imports nothing of this module: it speaks to a server over HTTP, WebSocket
// and SQL like any client, and builds one with `go build` when it spawns it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// allScenarios is the order of -scenario all: reads first, then writes.
var allScenarios = []string{"list", "list-total", "inbox", "deep-page", "detail", "summary", "summary-merchant", "count", "count-merchant",
	"floor", "mutate", "mutate-turns", "webhooks", "fanout", "idle"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		os.Exit(1)
	}
}

// env is what the scenarios share.
type env struct {
	opts   *Options
	gql    []*gqlClient
	probes []*Probe
	log    io.Writer
}

// run parses flags, optionally spawns a server, runs the scenarios, prints the table
// and writes the JSON report. It fails when any scenario failed or had errors.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.budget())
	defer cancel()
	var peerDB string
	var peerPool int
	if o.Peer { // before building or spawning anything
		if peerDB, peerPool, err = preparePeer(o); err != nil {
			return err
		}
	}
	e := &env{opts: o, log: stderr}
	if o.Spawn {
		srv, err := spawnServer(ctx, o.DatabaseURL, o.SeedCases, stderr)
		if err != nil {
			return err
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				fmt.Fprintln(stderr, "bench: stopping the server:", err)
			}
		}()
		o.URLs, o.Token, o.Engine, o.DatabaseURL, o.PIDs = []string{srv.URL}, srv.Token, srv.Engine, srv.DBURL, []int{srv.PID()}
		o.MetricsToken = srv.MetricsToken
	}
	client := newHTTPClient(o.Concurrency, o.Timeout)
	for i, u := range o.URLs {
		e.gql = append(e.gql, &gqlClient{url: u, http: client})
		p := &Probe{MetricsURL: metricsURL(u), Token: o.MetricsToken, client: newHTTPClient(2, 10*time.Second)}
		if i < len(o.PIDs) {
			p.PID = o.PIDs[i]
		}
		e.probes = append(e.probes, p)
	}
	if err := e.preflight(ctx); err != nil {
		return err
	}
	rep := Report{Started: time.Now().UTC(), Machine: describeMachine(), Config: o.describe()}
	if o.Peer {
		err := e.runPeer(ctx, peerDB, peerPool, &rep, stdout)
		rep.Finished = time.Now().UTC()
		rep.Machine.LoadAfter = loadAvg()
		if o.JSONPath != "" && len(rep.Results) > 0 {
			if werr := WriteJSON(o.JSONPath, rep); werr != nil && err == nil {
				err = werr
			}
		}
		if err == nil && ctx.Err() != nil {
			err = fmt.Errorf("interrupted: %w", ctx.Err())
		}
		return err
	}
	var failed []string
	for _, name := range o.Scenarios {
		if ctx.Err() != nil {
			break
		}
		r, err := e.runScenario(ctx, name)
		if err != nil {
			fmt.Fprintf(stderr, "bench: %s: %v\n", name, err)
			r = Result{Scenario: name, Engine: o.Engine, Errors: 1, ErrorSamples: []string{"setup: " + err.Error()}}
		}
		if r.Failed() {
			failed = append(failed, name)
		}
		if samples := strings.Join(r.ErrorSamples, " "); strings.Contains(samples, "RATE_LIMITED") || strings.Contains(samples, "LIMIT_REACHED") {
			fmt.Fprintln(stderr, "bench: the server rate-limits: start it with RATE_LIMIT=0 MUTATION_RATE_LIMIT=0 MESSAGES_PER_HOUR=0 for benchmarks")
		}
		rep.Results = append(rep.Results, r)
		fmt.Fprintf(stderr, "bench: %s done: %.1f rps, p50 %.2f ms, p99 %.2f ms, %d errors\n", name, r.RPS, r.P50ms, r.P99ms, r.Errors)
	}
	rep.Finished = time.Now().UTC()
	rep.Machine.LoadAfter = loadAvg()
	fmt.Fprintf(stdout, "\nload average before %s, after %s; %d CPUs (%s)\n\n", rep.Machine.LoadBefore, rep.Machine.LoadAfter,
		rep.Machine.CPUs, rep.Machine.CPUModel)
	if err := WriteTable(stdout, rep.Results); err != nil {
		return err
	}
	if o.JSONPath != "" {
		if err := WriteJSON(o.JSONPath, rep); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if len(failed) > 0 {
		return fmt.Errorf("scenarios with errors: %s", strings.Join(failed, ", "))
	}
	return nil
}

func (e *env) runScenario(ctx context.Context, name string) (Result, error) {
	e.logf("=== %s", name)
	switch name {
	case "list", "list-total":
		return e.runList(ctx, name)
	case "inbox":
		return e.runInbox(ctx)
	case "deep-page":
		return e.runDeepPage(ctx)
	case "detail":
		return e.runDetail(ctx)
	case "summary", "summary-merchant":
		return e.runCount(ctx, name, summaryScenarioQuery, name == "summary-merchant")
	case "count", "count-merchant":
		return e.runCount(ctx, name, countScenarioQuery, name == "count-merchant")
	case "mutate":
		return e.runMutate(ctx)
	case "mutate-turns":
		return e.runMutateTurns(ctx)
	case "fanout":
		return e.runFanout(ctx)
	case "idle":
		return e.runIdle(ctx)
	case "floor":
		return e.runFloor(ctx)
	case "webhooks":
		return e.runWebhooks(ctx)
	}
	return Result{}, fmt.Errorf("unknown scenario %q", name)
}

// preflight checks every URL answers and the token is a platform token, so a wrong
// port or token fails at once rather than as errors in every scenario.
func (e *env) preflight(ctx context.Context) error {
	for _, c := range e.gql {
		var data struct{ Viewer struct{ Role string } }
		if err := c.Do(ctx, e.opts.Token, `query BenchSetupViewer { viewer { role } }`, nil, &data); err != nil {
			return fmt.Errorf("%s: %w", c.url, err)
		}
		if data.Viewer.Role != "PLATFORM" {
			return fmt.Errorf("%s: -token acts as %s; a platform token is needed (the server's PLATFORM_TOKEN)", c.url, data.Viewer.Role)
		}
	}
	return nil
}

// metricsURL is /metrics on the GraphQL endpoint's host.
func metricsURL(graphqlURL string) string {
	u, err := url.Parse(graphqlURL)
	if err != nil {
		return ""
	}
	u.Path, u.RawQuery = "/metrics", ""
	return u.String()
}

// runFloor reads the list scenario's data straight from the database.
func (e *env) runFloor(ctx context.Context) (Result, error) {
	if e.opts.DatabaseURL == "" {
		return Result{}, errors.New("floor needs -database-url (the server's database)")
	}
	f, err := openFloor(ctx, e.opts.DatabaseURL, e.opts.Concurrency)
	if err != nil {
		return Result{}, fmt.Errorf("open %s: %w", e.opts.DatabaseURL, err)
	}
	defer f.Close()
	if _, err := f.page(ctx); err != nil {
		return Result{}, err
	}
	r := e.measure(ctx, "floor", func(ctx context.Context, _, _ int) error {
		_, err := f.page(ctx)
		return err
	})
	// There is no server: the tool itself is the application. Its CPU is the floor's
	// application cost; the server columns do not apply.
	r.SQLPerReq, r.ServerCPU, r.ServerRSSMB = ptr(floorStatements), nil, nil
	if r.Requests > 0 {
		r.extra("app_cpu_ms_per_req", 1000*r.ClientCPU/float64(r.Requests))
	}
	delete(r.Extra, "server_cpu_ms_per_req")
	if !slices.Contains([]string{"postgres", "sqlite"}, r.Engine) {
		r.Engine = engineOf(e.opts.DatabaseURL)
	}
	return r, nil
}

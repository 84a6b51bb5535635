package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options are the command's flags.
type Options struct {
	Scenarios       []string
	URLs            []string
	Token           string
	MetricsToken    string
	PIDs            []int
	Engine          string
	Concurrency     int
	Duration        time.Duration
	Warmup          time.Duration
	Timeout         time.Duration
	DeepPage        int
	Pool            int
	DetailCases     int
	FillEvents      int
	Filter          string
	Company         string
	IdempotencyKeys bool
	// WebhookEndpoints is how many endpoints the webhooks scenario registers.
	WebhookEndpoints int
	// WebhookRounds is how many without/with rounds the webhooks scenario alternates.
	WebhookRounds   int
	Subscribers     int
	IdleSubscribers int
	Rate            float64
	FanoutCases     int
	SubsPerConn     int
	SubsPerToken    int
	DatabaseURL     string
	PGDatabase      string
	JSONPath        string
	PprofURL        string
	PprofDir        string
	Smoke           bool
	Spawn           bool
	SeedCases       int
	Peer            bool
	PeerRounds      int
	PeerDir         string
	PeerPool        int
}

type listFlag struct{ values *[]string }

func (l listFlag) String() string {
	if l.values == nil {
		return ""
	}
	return strings.Join(*l.values, ",")
}
func (l listFlag) Set(s string) error { *l.values = append(*l.values, s); return nil }

type intsFlag struct{ values *[]int }

func (l intsFlag) String() string { return "" }
func (l intsFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return errors.New("want a process ID")
	}
	*l.values = append(*l.values, n)
	return nil
}

func parseFlags(args []string, out io.Writer) (*Options, error) {
	o := &Options{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(out)
	scenario := fs.String("scenario", "list", "comma-separated scenarios: "+strings.Join(allScenarios, ", ")+", or all")
	fs.Var(listFlag{&o.URLs}, "url", "GraphQL endpoint, e.g. http://127.0.0.1:8080/graphql (loopback only); repeat for fanout across processes")
	fs.StringVar(&o.Token, "token", "", "a platform token with READ and MANAGE (the server's PLATFORM_TOKEN); fixtures use it to issue customer and subscriber tokens")
	fs.StringVar(&o.MetricsToken, "metrics-token", "", "the server's METRICS_TOKEN, if /metrics requires one")
	fs.Var(intsFlag{&o.PIDs}, "pid", "server process ID for CPU and RSS from /proc (repeat, in -url order); default: /metrics process_* figures")
	fs.StringVar(&o.Engine, "engine", "", "label for the results: postgres or sqlite (default: from -database-url)")
	fs.IntVar(&o.Concurrency, "c", 20, "concurrent clients (closed loop) for list, deep-page, detail, mutate, floor")
	fs.DurationVar(&o.Duration, "d", 30*time.Second, "measured duration of each scenario")
	fs.DurationVar(&o.Warmup, "warmup", 3*time.Second, "unmeasured warm-up before each scenario")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.IntVar(&o.DeepPage, "deep-page", 10000, "deep-page: the page number (of 20) to fetch; half-way when the data set is smaller")
	fs.IntVar(&o.Pool, "pool", 1000, "mutate: cases (waiting on the merchant) the customers respond on")
	fs.IntVar(&o.DetailCases, "detail-cases", 20, "detail: cases read in turn")
	fs.IntVar(&o.FillEvents, "fill-events", 50, "detail: add customer messages in setup until each case has this many events (0: leave as is)")
	fs.IntVar(&o.WebhookEndpoints, "webhook-endpoints", 3, "webhooks: endpoints subscribed to every event during the mutate runs with webhooks")
	fs.IntVar(&o.WebhookRounds, "webhook-rounds", 1, "webhooks: alternating rounds of mutate without and with endpoints")
	fs.StringVar(&o.Filter, "filter", "", `summary, count: a ResolutionFilter as JSON, e.g. {"createdAfter": "2026-01-01T00:00:00Z"} (default: none)`)
	fs.StringVar(&o.Company, "company", "", "summary-merchant, count-merchant, inbox: the company (default: the one with the most cases among the 500 newest cases)")
	fs.BoolVar(&o.IdempotencyKeys, "idempotency-keys", false, "mutate: send a fresh idempotencyKey with every action")
	fs.IntVar(&o.Subscribers, "subscribers", 1000, "fanout: WebSocket subscriptions (resolutionEventAdded)")
	fs.IntVar(&o.IdleSubscribers, "idle-subscribers", 10000, "idle: subscriptions held open without traffic")
	fs.Float64Var(&o.Rate, "rate", 10, "fanout: actions committed per second")
	fs.IntVar(&o.FanoutCases, "fanout-cases", 1, "fanout: cases the subscribers and actions are spread over")
	fs.IntVar(&o.SubsPerConn, "subs-per-conn", 1, "fanout, idle: subscriptions multiplexed on one WebSocket")
	fs.IntVar(&o.SubsPerToken, "subs-per-token", 1000, "fanout, idle: subscriptions per token (the server's MAX_SUBSCRIPTIONS per principal)")
	fs.StringVar(&o.DatabaseURL, "database-url", "", "floor: the server's database (postgres://... or sqlite:PATH); with -spawn: the database the server uses (default a temporary SQLite file)")
	fs.StringVar(&o.PGDatabase, "pg-database", "", "count only the PostgreSQL backends connected to this database in postgres_cpu_s (default: every postgres process on the machine; set it when other databases on the server are busy)")
	fs.StringVar(&o.JSONPath, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.PprofURL, "pprof", "", "base URL of a net/http/pprof endpoint of the server (loopback), e.g. http://127.0.0.1:6060: save a CPU profile of each measured window")
	fs.StringVar(&o.PprofDir, "pprof-dir", ".", "where -pprof saves <scenario>.cpu.prof")
	fs.BoolVar(&o.Smoke, "smoke", false, "every scenario briefly with small sizes; spawns a server unless -url is given; fails on any error")
	fs.BoolVar(&o.Spawn, "spawn", false, "build and start the server on 127.0.0.1 (rate limits and write budgets off), seeded with -seed-cases, and stop it afterwards")
	fs.IntVar(&o.SeedCases, "seed-cases", 2000, "with -spawn: cases to generate first (0: none, e.g. for an already seeded -database-url)")
	fs.BoolVar(&o.Peer, "peer", false, "side by side with PostGraphile v5 (bench/peer, started with node) on the same -database-url: list and detail (or -scenario), alternating rounds of -d")
	fs.IntVar(&o.PeerRounds, "peer-rounds", 3, "with -peer: measured rounds per server and scenario (ours, peer, ours, peer, ...)")
	fs.StringVar(&o.PeerDir, "peer-dir", "", "with -peer: the directory of server.mjs and its node_modules (default: bench/peer in the module)")
	fs.IntVar(&o.PeerPool, "peer-pool", 0, "with -peer: PostGraphile's connection pool (default: as this server's pgx pool, pool_max_conns of -database-url or max(4, CPUs))")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.Smoke {
		smokeDefaults(o, set, scenario)
	}
	if o.Peer {
		peerDefaults(o, set, scenario)
	}
	for _, s := range strings.Split(*scenario, ",") {
		switch s = strings.TrimSpace(s); {
		case s == "all":
			o.Scenarios = append(o.Scenarios, allScenarios...)
		case slices.Contains(allScenarios, s):
			o.Scenarios = append(o.Scenarios, s)
		default:
			return nil, fmt.Errorf("unknown scenario %q (want %s or all)", s, strings.Join(allScenarios, ", "))
		}
	}
	return o, o.validate()
}

// peerDefaults: list and detail, and no seeding of the (already seeded) database the
// spawned server and PostGraphile share, unless set explicitly.
func peerDefaults(o *Options, set map[string]bool, scenario *string) {
	if !set["scenario"] {
		*scenario = strings.Join(peerScenarios, ",")
	}
	if !set["seed-cases"] {
		o.SeedCases = 0
	}
}

// smokeDefaults shrinks everything not set explicitly to a run of seconds.
func smokeDefaults(o *Options, set map[string]bool, scenario *string) {
	def := func(name string, apply func()) {
		if !set[name] {
			apply()
		}
	}
	def("scenario", func() { *scenario = "all" })
	def("d", func() { o.Duration = 1500 * time.Millisecond })
	def("warmup", func() { o.Warmup = 200 * time.Millisecond })
	def("c", func() { o.Concurrency = 4 })
	def("deep-page", func() { o.DeepPage = 20 })
	def("pool", func() { o.Pool = 50 })
	def("detail-cases", func() { o.DetailCases = 5 })
	def("fill-events", func() { o.FillEvents = 20 })
	def("subscribers", func() { o.Subscribers = 20 })
	def("idle-subscribers", func() { o.IdleSubscribers = 50 })
	def("rate", func() { o.Rate = 20 })
	if len(o.URLs) == 0 {
		o.Spawn = true
	}
}

func (o *Options) validate() error {
	if o.Spawn && len(o.URLs) > 0 {
		return errors.New("-spawn starts its own server: do not give -url")
	}
	if !o.Spawn && len(o.URLs) == 0 {
		return errors.New("give -url http://127.0.0.1:PORT/graphql (and -token), or -spawn, or -smoke")
	}
	if !o.Spawn && o.Token == "" {
		return errors.New("-token is required: a platform token (the server's PLATFORM_TOKEN)")
	}
	for _, u := range o.URLs {
		if err := checkLoopbackURL(u); err != nil {
			return err
		}
	}
	if o.PprofURL != "" {
		if err := checkLoopbackURL(o.PprofURL); err != nil {
			return err
		}
	}
	if err := checkDatabaseURL(o.DatabaseURL); err != nil {
		return err
	}
	if len(o.PIDs) > len(o.URLs) && !o.Spawn {
		return errors.New("more -pid than -url")
	}
	switch {
	case o.Concurrency < 1 || o.Concurrency > 1000:
		return errors.New("-c must be 1..1000")
	case o.Duration <= 0 || o.Duration > time.Hour:
		return errors.New("-d must be positive and at most 1h")
	case o.Warmup < 0 || o.Warmup > 10*time.Minute:
		return errors.New("-warmup must be 0..10m")
	case o.Rate <= 0 || o.Rate > 10000:
		return errors.New("-rate must be in (0, 10000]")
	case o.Subscribers < 1 || o.IdleSubscribers < 1 || o.Subscribers > 100000 || o.IdleSubscribers > 100000:
		return errors.New("-subscribers and -idle-subscribers must be 1..100000")
	case o.Pool < 1 || o.DetailCases < 1 || o.FanoutCases < 1 || o.SubsPerConn < 1 || o.SubsPerToken < 1 || o.DeepPage < 1:
		return errors.New("-pool, -detail-cases, -fanout-cases, -subs-per-conn, -subs-per-token and -deep-page must be positive")
	}
	if o.Engine == "" {
		o.Engine = engineOf(o.DatabaseURL)
	}
	if o.Peer {
		return o.validatePeer()
	}
	return nil
}

// validatePeer checks the -peer options: PostgreSQL, the scenarios it maps, no
// profiling (its file names are per scenario, not per round).
func (o *Options) validatePeer() error {
	switch {
	case o.Smoke:
		return errors.New("-peer and -smoke do not go together")
	case engineOf(o.DatabaseURL) != "postgres":
		return errors.New("-peer needs -database-url postgres://... : the database this server uses, which PostGraphile reads too")
	case o.PeerRounds < 1 || o.PeerRounds > 100:
		return errors.New("-peer-rounds must be 1..100")
	case o.PeerPool < 0 || o.PeerPool > 1000:
		return errors.New("-peer-pool must be 0 (as this server) or 1..1000")
	case o.PprofURL != "":
		return errors.New("-pprof is not supported with -peer")
	}
	for _, s := range o.Scenarios {
		if !slices.Contains(peerScenarios, s) {
			return fmt.Errorf("-peer runs %s, not %q", strings.Join(peerScenarios, " and "), s)
		}
	}
	return nil
}

// budget bounds the whole run: every scenario's warm-up and duration plus generous
// time for setup (building and seeding, fixtures, subscriptions).
func (o *Options) budget() time.Duration {
	if o.Peer {
		round := 2 * (o.Duration + o.Warmup)
		return 15*time.Minute + time.Duration(len(o.Scenarios))*(time.Duration(o.PeerRounds)*round+2*time.Minute)
	}
	return 15*time.Minute + time.Duration(len(o.Scenarios))*(o.Duration+o.Warmup+2*time.Minute)
}

func engineOf(dbURL string) string {
	switch {
	case strings.HasPrefix(dbURL, "postgres"):
		return "postgres"
	case strings.HasPrefix(dbURL, "sqlite:"), strings.HasPrefix(dbURL, "file:"):
		return "sqlite"
	}
	return ""
}

// describe is the configuration recorded in the JSON report (no secrets).
func (o *Options) describe() map[string]any {
	return map[string]any{"scenarios": o.Scenarios, "urls": o.URLs, "engine": o.Engine, "concurrency": o.Concurrency,
		"duration": o.Duration.String(), "warmup": o.Warmup.String(), "deep_page": o.DeepPage, "pool": o.Pool,
		"detail_cases": o.DetailCases, "fill_events": o.FillEvents, "filter": o.Filter, "company": o.Company, "subscribers": o.Subscribers,
		"idle_subscribers": o.IdleSubscribers, "rate": o.Rate, "fanout_cases": o.FanoutCases,
		"subs_per_conn": o.SubsPerConn, "idempotency_keys": o.IdempotencyKeys, "spawn": o.Spawn, "smoke": o.Smoke,
		"seed_cases": o.SeedCases, "pids": o.PIDs, "peer": o.Peer, "peer_rounds": o.PeerRounds, "peer_pool": o.PeerPool}
}

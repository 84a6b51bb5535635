package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph"
)

// ErrHelp is returned when -help was asked for; the usage has been printed.
var ErrHelp = errors.New("help requested")

// Config is every setting of the server. Each has a flag and an environment variable;
// the flag wins. Defaults are documented in README.md and by -help.
type Config struct {
	Addr            string
	DatabaseURL     string
	PlatformToken   string
	ResponseWindow  time.Duration
	SweepInterval   time.Duration
	ShutdownGrace   time.Duration
	Seed            bool
	Limits          graph.Limits
	MaxInfoRequests int
	LogFormat       string

	MetricsToken        string
	RateLimit           float64
	RateBurst           float64
	APQCacheSize        int
	Suggestions         bool
	QueryPlanner        bool
	CORSOrigins         []string
	RequestTimeout      time.Duration
	StatementTimeout    time.Duration
	HeaderTimeout       time.Duration
	ReadTimeout         time.Duration
	IdleTimeout         time.Duration
	MaxSubsPerPrincipal int
	WSOrigins           []string
	WSInitTimeout       time.Duration
	PprofAddr           string
	GCHeadroomMB        int
	AuthCacheTTL        time.Duration

	// Set in code, never from the environment.

	// Getenv reads the OTEL_* variables (tracing) and GOGC; nil reads nothing.
	Getenv func(string) string
	// Out receives the start-up lines and the logs (default os.Stdout).
	Out io.Writer
	// DB, when set, is the database to serve instead of opening DatabaseURL (a test
	// serves the database it filled). It must be migrated; the App does not close it.
	DB *db.DB
	// Now is the clock of the API, the sweeper and the rate limiter (default time.Now).
	Now func() time.Time
	// Tracer, when set, receives the spans instead of the OTEL_* exporter's tracer.
	Tracer trace.Tracer
}

type setting struct {
	name, env, def, help string
	secret               bool
	set                  func(string) error
}

// ParseConfig reads the settings of a subcommand (serve or migrate) from args and the
// environment, checks them, and for serve prints them with secrets masked to out.
func ParseConfig(cmd string, args []string, getenv func(string) string, out io.Writer) (Config, error) {
	c := Config{Limits: graph.DefaultLimits, Getenv: getenv, Out: out}
	dur := func(p *time.Duration) func(string) error {
		return func(s string) error {
			d, err := parseDuration(s)
			if err == nil && d <= 0 {
				err = errors.New("must be positive")
			}
			*p = d
			return err
		}
	}
	num := func(p *int) func(string) error {
		return func(s string) error {
			n, err := strconv.Atoi(s)
			if err == nil && n <= 0 {
				err = errors.New("must be positive")
			}
			*p = n
			return err
		}
	}
	durZero := func(p *time.Duration) func(string) error {
		return func(s string) error {
			d, err := parseDuration(s)
			if err == nil && d < 0 {
				err = errors.New("must not be negative")
			}
			*p = d
			return err
		}
	}
	numZero := func(p *int) func(string) error {
		return func(s string) error {
			n, err := strconv.Atoi(s)
			if err == nil && n < 0 {
				err = errors.New("must not be negative")
			}
			*p = n
			return err
		}
	}
	boolean := func(p *bool) func(string) error {
		return func(s string) error {
			v, err := strconv.ParseBool(s)
			*p = v
			return err
		}
	}
	str := func(p *string) func(string) error { return func(s string) error { *p = s; return nil } }
	float := func(p *float64) func(string) error {
		return func(s string) error {
			v, err := strconv.ParseFloat(s, 64)
			if err == nil && v < 0 {
				err = errors.New("must not be negative")
			}
			*p = v
			return err
		}
	}
	list := func(p *[]string) func(string) error {
		return func(s string) error {
			*p = nil
			for _, v := range strings.Split(s, ",") {
				if v = strings.TrimSpace(v); v != "" {
					*p = append(*p, v)
				}
			}
			return nil
		}
	}
	var bodyBytes int
	settings := []setting{
		{"addr", "ADDR", ":8080", "listen address (host:port; port 0 picks a free port)", false, str(&c.Addr)},
		{"database-url", "DATABASE_URL", "", "postgres://... for PostgreSQL; empty for the SQLite file data/resolution-center.db; sqlite:PATH for another file", true, str(&c.DatabaseURL)},
		{"platform-token", "PLATFORM_TOKEN", "", "a token accepted as the platform with read and manage scopes (for operators and scripts)", true, str(&c.PlatformToken)},
		{"response-window", "RESPONSE_WINDOW", "168h", "how long a party has to answer before the deadline passes (e.g. 168h or 7d)", false, dur(&c.ResponseWindow)},
		{"sweep-interval", "SWEEP_INTERVAL", "30s", "how often the sweeper transitions past-due cases and deletes old idempotency records (0: this process does not sweep; another replica does)", false, durZero(&c.SweepInterval)},
		{"shutdown-grace", "SHUTDOWN_GRACE", "15s", "how long in-flight requests may take to finish on SIGTERM", false, dur(&c.ShutdownGrace)},
		{"seed-demo", "SEED_DEMO", "true", "seed demo data on the first start of an empty embedded (SQLite) database", false, boolean(&c.Seed)},
		{"max-body-bytes", "MAX_BODY_BYTES", "1048576", "largest accepted request body; larger bodies answer 413", false, num(&bodyBytes)},
		{"max-depth", "MAX_DEPTH", "15", "deepest selection nesting accepted", false, num(&c.Limits.MaxDepth)},
		{"max-complexity", "MAX_COMPLEXITY", "50000", "largest operation cost accepted (connections cost page size x selection)", false, num(&c.Limits.MaxComplexity)},
		{"max-tokens", "MAX_TOKENS", "15000", "largest number of lexer tokens in a document", false, num(&c.Limits.MaxTokens)},
		{"introspection", "INTROSPECTION", "true", "answer __schema and __type queries", false, boolean(&c.Limits.Introspection)},
		{"max-info-requests", "MAX_INFO_REQUESTS", "3", "how many times a merchant may request more information on one case", false, num(&c.MaxInfoRequests)},
		{"log-format", "LOG_FORMAT", "auto", "text, json, or auto (text on a terminal, JSON otherwise)", false, str(&c.LogFormat)},
		{"metrics-token", "METRICS_TOKEN", "", "when set, /metrics requires Authorization: Bearer <this>", true, str(&c.MetricsToken)},
		{"rate-limit", "RATE_LIMIT", "50000", "cost units (operation complexity) each principal earns per second; 0 disables rate limiting", false, float(&c.RateLimit)},
		{"rate-burst", "RATE_BURST", "250000", "most cost units a principal can save up", false, float(&c.RateBurst)},
		{"apq-cache-size", "APQ_CACHE_SIZE", "1000", "automatic persisted queries kept (0 disables APQ)", false, numZero(&c.APQCacheSize)},
		{"suggestions", "SUGGESTIONS", "true", "include \"did you mean\" hints in validation errors", false, boolean(&c.Suggestions)},
		{"query-planner", "QUERY_PLANNER", "true", "answer the query operations the planner covers with planned execution (false: gqlgen's executor for everything)", false, boolean(&c.QueryPlanner)},
		{"cors-origins", "CORS_ORIGINS", "", "comma-separated browser origins allowed to call the API cross-origin (* for any); none by default", false, list(&c.CORSOrigins)},
		{"request-timeout", "REQUEST_TIMEOUT", "30s", "longest time an ordinary (non-streaming) request may take", false, dur(&c.RequestTimeout)},
		{"statement-timeout", "STATEMENT_TIMEOUT", "10s", "PostgreSQL statement_timeout for every statement", false, dur(&c.StatementTimeout)},
		{"header-timeout", "HEADER_TIMEOUT", "5s", "longest time a client may take to send request headers", false, dur(&c.HeaderTimeout)},
		{"read-timeout", "READ_TIMEOUT", "30s", "longest time a client may take to send a whole request", false, dur(&c.ReadTimeout)},
		{"idle-timeout", "IDLE_TIMEOUT", "120s", "how long an idle keep-alive connection stays open", false, dur(&c.IdleTimeout)},
		{"ws-origins", "WS_ORIGINS", "", "extra browser origins allowed to open WebSockets (patterns like https://app.example.com or *.example.com); same origin and localhost are always allowed", false, list(&c.WSOrigins)},
		{"ws-init-timeout", "WS_INIT_TIMEOUT", "3s", "how long a WebSocket client has to send connection_init (then 4408)", false, dur(&c.WSInitTimeout)},
		{"pprof-addr", "PPROF_ADDR", "", "when set (e.g. 127.0.0.1:6060), serve net/http/pprof there for profiling; keep it on loopback", false, str(&c.PprofAddr)},
		{"gc-headroom-mb", "GC_HEADROOM_MB", "64", "most garbage (MB) the Go heap may gather between collections once GOGC's share of a large live heap would exceed it (0: GOGC alone decides)", false, numZero(&c.GCHeadroomMB)},
		{"max-subscriptions", "MAX_SUBSCRIPTIONS", "1000", "most concurrent subscriptions per principal", false, num(&c.MaxSubsPerPrincipal)},
		{"auth-cache-ttl", "AUTH_CACHE_TTL", "5s", "how long a token's principal is remembered between database lookups (0: look up every request); a revoked token or a team change shows within it", false, durZero(&c.AuthCacheTTL)},
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: resolutioncenter [serve|migrate|seed] [flags]\n\nEvery flag can also be set by its environment variable.\n\n")
		for _, s := range settings {
			def := s.def
			if def == "" {
				def = `""`
			}
			fmt.Fprintf(out, "  -%s  (env %s, default %s)\n    \t%s\n", s.name, s.env, def, s.help)
		}
	}
	values := map[string]*string{}
	for _, s := range settings {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		values[s.name] = fs.String(s.name, v, s.help)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, ErrHelp
		}
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var problems []string
	for _, s := range settings {
		if err := s.set(*values[s.name]); err != nil {
			problems = append(problems, fmt.Sprintf("-%s / %s = %q: %v", s.name, s.env, *values[s.name], err))
		}
	}
	switch c.LogFormat {
	case "auto", "text", "json":
	default:
		problems = append(problems, fmt.Sprintf("-log-format / LOG_FORMAT = %q: want auto, text or json", c.LogFormat))
	}
	if c.RateLimit > 0 && c.RateBurst < float64(c.Limits.MaxComplexity) {
		problems = append(problems, fmt.Sprintf("-rate-burst / RATE_BURST = %v: must be at least MAX_COMPLEXITY (%d), or the costliest legal query could never run", c.RateBurst, c.Limits.MaxComplexity))
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("invalid configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	c.Limits.MaxBodyBytes = int64(bodyBytes)
	if cmd == "serve" {
		fmt.Fprintln(out, "configuration:")
		for _, s := range settings {
			v := *values[s.name]
			if s.secret && v != "" {
				v = maskSecret(s.name, v)
			}
			fmt.Fprintf(out, "  %-18s %s\n", s.env, v)
		}
	}
	return c, nil
}

// Policy is the lifecycle policy the settings describe.
func (c Config) Policy() *dispute.Policy {
	p := dispute.DefaultPolicy()
	p.ResponseWindow = c.ResponseWindow
	p.MaxInfoRequests = c.MaxInfoRequests
	return &p
}

// parseDuration accepts Go durations plus a day suffix ("7d").
func parseDuration(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func maskSecret(name, v string) string {
	if name == "database-url" {
		return db.MaskURL(v)
	}
	return "xxxxx"
}

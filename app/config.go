package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph"
	"resolutioncenter/webhook"
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
	PersistedDocuments  string
	PersistedOnly       bool
	Suggestions         bool
	QueryPlanner        bool
	CORSOrigins         []string
	RequestTimeout      time.Duration
	StatementTimeout    time.Duration
	HeaderTimeout       time.Duration
	ReadTimeout         time.Duration
	IdleTimeout         time.Duration
	MaxSubsPerPrincipal int
	MessagesPerHour     int
	MutationRate        float64
	MutationBurst       float64
	WriteTimeout        time.Duration
	ReadyFailAfter      time.Duration
	WSOrigins           []string
	WSInitTimeout       time.Duration
	SSEKeepAlive        time.Duration
	PprofAddr           string
	GCHeadroomMB        int
	AuthCacheTTL        time.Duration
	// DevMode is development mode: loopback browser origins allowed (CORS), a short
	// PLATFORM_TOKEN accepted, webhook endpoints on loopback over http, a generated
	// webhook secret key. True by default with the embedded database only.
	DevMode     bool
	MetricsAddr string
	// AuthFailureRate and AuthFailureBurst throttle failed authentications per client
	// address; TrustedProxies name the proxies whose X-Forwarded-For is believed.
	AuthFailureRate  float64
	AuthFailureBurst int
	TrustedProxies   []netip.Prefix
	// OIDC is the OpenID Connect identity provider whose JWTs sign users in; off
	// without OIDC_ISSUER.
	OIDC auth.OIDCConfig

	// Webhook delivery (see README, "Webhooks").
	WebhookSecretKey           string
	WebhookWorkers             int
	WebhookTimeout             time.Duration
	WebhookRetryBase           time.Duration
	WebhookEndpointConcurrency int
	WebhookEndpointRate        float64
	WebhookPollInterval        time.Duration
	WebhookDBConns             int
	WebhookDeliveryRetention   time.Duration
	WebhookMaxEndpoints        int

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
			switch {
			case err != nil:
			case math.IsNaN(v) || math.IsInf(v, 0):
				err = errors.New("must be a finite number")
			case v < 0:
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
	var bodyBytes, responseBytes int
	var devMode string
	var proxies []string
	settings := []setting{
		{"addr", "ADDR", ":8080", "listen address (host:port; port 0 picks a free port)", false, str(&c.Addr)},
		{"database-url", "DATABASE_URL", "", "postgres://... for PostgreSQL; empty for the SQLite file data/resolution-center.db; sqlite:PATH for another file", true, str(&c.DatabaseURL)},
		{"platform-token", "PLATFORM_TOKEN", "", "a token accepted as the platform with read and manage scopes (for operators and scripts)", true, str(&c.PlatformToken)},
		{"response-window", "RESPONSE_WINDOW", "168h", "how long a party has to answer before the deadline passes (e.g. 168h or 7d)", false, dur(&c.ResponseWindow)},
		{"sweep-interval", "SWEEP_INTERVAL", "30s", "how often the sweeper transitions past-due cases, deletes old idempotency records and trims the webhook delivery log (0: this process does not sweep; another replica does)", false, durZero(&c.SweepInterval)},
		{"shutdown-grace", "SHUTDOWN_GRACE", "15s", "how long in-flight requests and webhook deliveries may take to finish on SIGTERM", false, dur(&c.ShutdownGrace)},
		{"seed-demo", "SEED_DEMO", "true", "seed demo data on the first start of an empty embedded (SQLite) database", false, boolean(&c.Seed)},
		{"max-body-bytes", "MAX_BODY_BYTES", "1048576", "largest accepted request body; larger bodies answer 413", false, num(&bodyBytes)},
		{"max-depth", "MAX_DEPTH", "15", "deepest selection nesting accepted", false, num(&c.Limits.MaxDepth)},
		{"max-complexity", "MAX_COMPLEXITY", "50000", "largest operation cost accepted (connections cost page size x selection)", false, num(&c.Limits.MaxComplexity)},
		{"max-tokens", "MAX_TOKENS", "15000", "largest number of lexer tokens in a document", false, num(&c.Limits.MaxTokens)},
		{"max-response-bytes", "MAX_RESPONSE_BYTES", "4194304", "largest response (one subscription value) sent; a larger one is answered with RESPONSE_TOO_LARGE alone (0: no cap)", false, numZero(&responseBytes)},
		{"messages-per-hour", "MESSAGES_PER_HOUR", "20", "messages (respond) one party may add to one case in any hour; more are LIMIT_REACHED (0: no limit)", false, numZero(&c.MessagesPerHour)},
		{"mutation-rate-limit", "MUTATION_RATE_LIMIT", "5", "mutations each user or company may run per second, across its tokens and cases (the platform is not limited); 0 disables", false, float(&c.MutationRate)},
		{"mutation-rate-burst", "MUTATION_RATE_BURST", "50", "most mutations a principal can save up", false, float(&c.MutationBurst)},
		{"write-timeout", "WRITE_TIMEOUT", "10s", "longest a client may take to receive one response, one event-stream message or one WebSocket frame before it is disconnected", false, dur(&c.WriteTimeout)},
		{"ready-fail-after", "READY_FAIL_AFTER", "10s", "how long the database (or, on PostgreSQL, LISTEN) must keep failing before /readyz answers 503; it answers 200 again at the first good check (0: at the first failure)", false, durZero(&c.ReadyFailAfter)},
		{"introspection", "INTROSPECTION", "true", "answer __schema and __type queries", false, boolean(&c.Limits.Introspection)},
		{"max-info-requests", "MAX_INFO_REQUESTS", "3", "how many times a merchant may request more information on one case", false, num(&c.MaxInfoRequests)},
		{"log-format", "LOG_FORMAT", "auto", "text, json, or auto (text on a terminal, JSON otherwise)", false, str(&c.LogFormat)},
		{"dev-mode", "DEV_MODE", "", "development mode: browser pages on loopback origins may call the API (CORS), a PLATFORM_TOKEN shorter than 32 characters is accepted, webhook endpoints may be loopback http URLs and a webhook secret key is generated next to the database; default true when DATABASE_URL is empty (the embedded database of go run .), false otherwise", false, str(&devMode)},
		{"metrics-token", "METRICS_TOKEN", "", "when set, /metrics on the API's address answers requests with Authorization: Bearer <this> (and so does METRICS_ADDR); without it /metrics is closed there", true, str(&c.MetricsToken)},
		{"metrics-addr", "METRICS_ADDR", "", "when set (e.g. 127.0.0.1:9464), serve /metrics on this separate address for Prometheus; a loopback address needs no token, any other requires METRICS_TOKEN", false, str(&c.MetricsAddr)},
		{"rate-limit", "RATE_LIMIT", "50000", "cost units (operation complexity) each principal earns per second; 0 disables rate limiting", false, float(&c.RateLimit)},
		{"rate-burst", "RATE_BURST", "250000", "most cost units a principal can save up", false, float(&c.RateBurst)},
		{"apq-cache-size", "APQ_CACHE_SIZE", "1000", "automatic persisted queries kept (0 disables APQ)", false, numZero(&c.APQCacheSize)},
		{"persisted-documents", "PERSISTED_DOCUMENTS", "", "a trusted-documents manifest (JSON: ID -> document, as graphql-codegen's client preset or the Relay compiler write it, or Apollo's persisted query manifest); clients may run its documents by ID", false, str(&c.PersistedDocuments)},
		{"persisted-only", "PERSISTED_ONLY", "false", "run only the documents of PERSISTED_DOCUMENTS (free-form queries answer PERSISTED_QUERY_NOT_ALLOWED; introspection still answers while INTROSPECTION is on); turns APQ off", false, boolean(&c.PersistedOnly)},
		{"suggestions", "SUGGESTIONS", "true", "include \"did you mean\" hints in validation errors", false, boolean(&c.Suggestions)},
		{"query-planner", "QUERY_PLANNER", "true", "answer the query operations the planner covers with planned execution (false: gqlgen's executor for everything)", false, boolean(&c.QueryPlanner)},
		{"cors-origins", "CORS_ORIGINS", "", "comma-separated browser origins allowed to call the API cross-origin (* for any, or a pattern with the scheme such as https://*.example.com) and to open WebSockets; in DEV_MODE every loopback origin is allowed too; none otherwise", false, list(&c.CORSOrigins)},
		{"request-timeout", "REQUEST_TIMEOUT", "30s", "longest time a query or mutation may run, over any transport (subscriptions are not bounded), and an ordinary HTTP request as a whole (0: no bound)", false, durZero(&c.RequestTimeout)},
		{"statement-timeout", "STATEMENT_TIMEOUT", "10s", "PostgreSQL statement_timeout for every statement", false, dur(&c.StatementTimeout)},
		{"header-timeout", "HEADER_TIMEOUT", "5s", "longest time a client may take to send request headers", false, dur(&c.HeaderTimeout)},
		{"read-timeout", "READ_TIMEOUT", "30s", "longest time a client may take to send a whole request", false, dur(&c.ReadTimeout)},
		{"idle-timeout", "IDLE_TIMEOUT", "120s", "how long an idle keep-alive connection stays open", false, dur(&c.IdleTimeout)},
		{"ws-origins", "WS_ORIGINS", "", "extra browser origins allowed to open WebSockets (patterns like https://app.example.com or *.example.com) besides CORS_ORIGINS; the same origin always, loopback origins in development mode", false, list(&c.WSOrigins)},
		{"ws-init-timeout", "WS_INIT_TIMEOUT", "3s", "how long a WebSocket client has to send connection_init (then 4408)", false, dur(&c.WSInitTimeout)},
		{"sse-keepalive", "SSE_KEEPALIVE", "15s", "how often an SSE stream with nothing to send gets a comment line, so that proxies and load balancers with an idle timeout keep it open (WebSockets are pinged as often); 0: never", false, durZero(&c.SSEKeepAlive)},
		{"pprof-addr", "PPROF_ADDR", "", "when set (e.g. 127.0.0.1:6060), serve net/http/pprof there for profiling; loopback only (it has no credential)", false, str(&c.PprofAddr)},
		{"gc-headroom-mb", "GC_HEADROOM_MB", "64", "most garbage (MB) the Go heap may gather between collections once GOGC's share of a large live heap would exceed it (0: GOGC alone decides)", false, numZero(&c.GCHeadroomMB)},
		{"max-subscriptions", "MAX_SUBSCRIPTIONS", "1000", "most concurrent subscriptions per token (per user for sign-in JWTs), and most open WebSocket connections per token (per client address without one)", false, num(&c.MaxSubsPerPrincipal)},
		{"auth-failure-rate", "AUTH_FAILURE_RATE", "1", "failed authentications per second a client address earns back once it has used AUTH_FAILURE_BURST; beyond, it gets 429 with Retry-After before any lookup (0 disables the throttle)", false, float(&c.AuthFailureRate)},
		{"auth-failure-burst", "AUTH_FAILURE_BURST", "20", "failed authentications a client address may make at once", false, num(&c.AuthFailureBurst)},
		{"trusted-proxies", "TRUSTED_PROXIES", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client (for rate limits and the throttle); empty: the peer's address is the client", false, list(&proxies)},
		{"oidc-issuer", "OIDC_ISSUER", "", "the OpenID Connect provider whose JWTs are accepted as Authorization: Bearer <JWT> (its iss, exactly); empty: opaque tokens only", false, str(&c.OIDC.Issuer)},
		{"oidc-audience", "OIDC_AUDIENCE", "", "the audience the provider's tokens must carry in aud (this API's client ID there); required with OIDC_ISSUER", false, str(&c.OIDC.Audience)},
		{"oidc-jwks-url", "OIDC_JWKS_URL", "", "the provider's key set URL; empty: discovered at start from OIDC_ISSUER/.well-known/openid-configuration", false, str(&c.OIDC.JWKSURL)},
		{"oidc-companies-claim", "OIDC_COMPANIES_CLAIM", "rc_companies", "the claim listing the company IDs (biz_...) the user acts for as merchant (only existing companies count)", false, str(&c.OIDC.CompaniesClaim)},
		{"oidc-staff-claim", "OIDC_STAFF_CLAIM", "groups", "the claim that makes a token platform staff: true, or a string or list containing OIDC_STAFF_VALUE", false, str(&c.OIDC.StaffClaim)},
		{"oidc-staff-value", "OIDC_STAFF_VALUE", "rc-platform-staff", "the group (value of OIDC_STAFF_CLAIM) of platform staff", false, str(&c.OIDC.StaffValue)},
		{"oidc-scopes-claim", "OIDC_SCOPES_CLAIM", "scope", "the claim with the token's scopes (space-separated or a list); without it a token may only read", false, str(&c.OIDC.ScopesClaim)},
		{"oidc-scope-prefix", "OIDC_SCOPE_PREFIX", "rc:", "the prefix of this API's scopes in that claim (rc:read, rc:manage)", false, str(&c.OIDC.ScopePrefix)},
		{"oidc-clock-skew", "OIDC_CLOCK_SKEW", "60s", "leeway for exp, nbf and iat", false, durZero(&c.OIDC.ClockSkew)},
		{"oidc-jwks-min-refresh", "OIDC_JWKS_MIN_REFRESH", "1m", "the key set is fetched again at most this often (also when a token names an unknown key: rotation)", false, dur(&c.OIDC.MinRefresh)},
		{"oidc-jwks-max-refresh", "OIDC_JWKS_MAX_REFRESH", "1h", "the key set is fetched again at least this often", false, dur(&c.OIDC.MaxRefresh)},
		{"auth-cache-ttl", "AUTH_CACHE_TTL", "5s", "how long a token's principal (and an unknown token) is remembered between database lookups (0: look up every request); a team change shows within it, a revocation at once", false, durZero(&c.AuthCacheTTL)},
		{"webhook-secret-key", "WEBHOOK_SECRET_KEY", "", "32-byte key (base64 or hex) that encrypts webhook signing secrets at rest (AES-256-GCM); in development mode a key is generated next to the database when unset", true, str(&c.WebhookSecretKey)},
		{"webhook-workers", "WEBHOOK_WORKERS", "200", "webhook delivery jobs (one per change, its deliveries to every endpoint) this process runs at once (0: this process only enqueues; another replica delivers)", false, numZero(&c.WebhookWorkers)},
		{"webhook-timeout", "WEBHOOK_TIMEOUT", "10s", "how long an endpoint has to answer a delivery with 2xx", false, dur(&c.WebhookTimeout)},
		{"webhook-retry-base", "WEBHOOK_RETRY_BASE", "5s", "first webhook retry delay; each next one doubles up to 12h, with jitter, for about 3 days", false, dur(&c.WebhookRetryBase)},
		{"webhook-endpoint-concurrency", "WEBHOOK_ENDPOINT_CONCURRENCY", "10", "most requests this process has open to one webhook endpoint", false, num(&c.WebhookEndpointConcurrency)},
		{"webhook-endpoint-rate", "WEBHOOK_ENDPOINT_RATE", "100", "most requests per second this process sends one webhook endpoint (0: unlimited)", false, float(&c.WebhookEndpointRate)},
		{"webhook-db-conns", "WEBHOOK_DB_CONNS", "8", "PostgreSQL connections webhook delivery uses, in a pool of its own so that deliveries never take the connections requests need", false, num(&c.WebhookDBConns)},
		{"webhook-poll-interval", "WEBHOOK_POLL_INTERVAL", "1s", "how often delivery workers look for due retries (new deliveries wake them at once)", false, dur(&c.WebhookPollInterval)},
		{"webhook-max-endpoints", "WEBHOOK_MAX_ENDPOINTS", "20", "most webhook endpoints one company may have (enabled or not), and most platform-wide ones; one more is LIMIT_REACHED (every change writes a delivery to each endpoint in its transaction)", false, num(&c.WebhookMaxEndpoints)},
		{"webhook-delivery-retention", "WEBHOOK_DELIVERY_RETENTION", "30d", "how long the sweeper keeps finished webhook deliveries (delivered or given up) with their attempts and payloads; pending ones stay until they finish (0: keep them all)", false, durZero(&c.WebhookDeliveryRetention)},
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
	for _, p := range proxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			ip, ierr := netip.ParseAddr(p)
			if ierr != nil {
				problems = append(problems, fmt.Sprintf("-trusted-proxies / TRUSTED_PROXIES: %q is neither an address nor a CIDR", p))
				continue
			}
			pfx = netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, pfx.Masked())
	}
	if c.OIDC.Issuer != "" && c.OIDC.Audience == "" {
		problems = append(problems, "-oidc-audience / OIDC_AUDIENCE: required with OIDC_ISSUER")
	}
	if c.OIDC.MaxRefresh < c.OIDC.MinRefresh {
		problems = append(problems, "-oidc-jwks-max-refresh / OIDC_JWKS_MAX_REFRESH: must not be shorter than OIDC_JWKS_MIN_REFRESH")
	}
	switch devMode {
	case "":
		c.DevMode = c.DatabaseURL == ""
	default:
		v, err := strconv.ParseBool(devMode)
		if err != nil {
			problems = append(problems, fmt.Sprintf("-dev-mode / DEV_MODE = %q: want true or false", devMode))
		}
		c.DevMode = v
	}
	if n := len(c.PlatformToken); n > 0 && n < MinSecretLength && !c.DevMode {
		problems = append(problems, fmt.Sprintf("-platform-token / PLATFORM_TOKEN: %d characters; at least %d are required "+
			"(e.g. openssl rand -base64 32), or DEV_MODE=true for a development server", n, MinSecretLength))
	}
	if n := len(c.MetricsToken); n > 0 && n < MinSecretLength && !c.DevMode {
		problems = append(problems, fmt.Sprintf("-metrics-token / METRICS_TOKEN: %d characters; at least %d are required, or DEV_MODE=true", n, MinSecretLength))
	}
	if c.MetricsAddr != "" && c.MetricsToken == "" && !isLoopbackAddr(c.MetricsAddr) {
		problems = append(problems, fmt.Sprintf("-metrics-addr / METRICS_ADDR = %q: not a loopback address; set METRICS_TOKEN to serve metrics there, or use 127.0.0.1:PORT", c.MetricsAddr))
	}
	if c.PprofAddr != "" && !isLoopbackAddr(c.PprofAddr) {
		// pprof has no credential (and its cmdline shows the flags, tokens included).
		problems = append(problems, fmt.Sprintf("-pprof-addr / PPROF_ADDR = %q: not a loopback address; pprof is served without a credential, use 127.0.0.1:PORT", c.PprofAddr))
	}
	if c.WebhookSecretKey != "" {
		if _, err := webhook.ParseKey(c.WebhookSecretKey); err != nil {
			problems = append(problems, fmt.Sprintf("-webhook-secret-key / WEBHOOK_SECRET_KEY: %v", err))
		}
	}
	if c.MutationRate > 0 && c.MutationBurst < 1 {
		problems = append(problems, fmt.Sprintf("-mutation-rate-burst / MUTATION_RATE_BURST = %v: must be at least 1", c.MutationBurst))
	}
	if c.RateLimit > 0 && c.RateBurst < float64(c.Limits.MaxComplexity) {
		problems = append(problems, fmt.Sprintf("-rate-burst / RATE_BURST = %v: must be at least MAX_COMPLEXITY (%d), or the costliest legal query could never run", c.RateBurst, c.Limits.MaxComplexity))
	}
	if c.PersistedOnly && c.PersistedDocuments == "" {
		problems = append(problems, "-persisted-only / PERSISTED_ONLY = true: needs PERSISTED_DOCUMENTS, the manifest of the documents to run")
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("invalid configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	c.Limits.MaxBodyBytes = int64(bodyBytes)
	c.Limits.MaxResponseBytes = int64(responseBytes)
	if cmd == "serve" {
		fmt.Fprintln(out, "configuration:")
		for _, s := range settings {
			v := *values[s.name]
			if s.secret && v != "" {
				v = maskSecret(s.name, v)
			}
			if s.name == "dev-mode" {
				v = strconv.FormatBool(c.DevMode)
				if devMode == "" {
					v += " (default: " + map[bool]string{true: "embedded database", false: "DATABASE_URL is set"}[c.DevMode] + ")"
				}
			}
			fmt.Fprintf(out, "  %-20s %s\n", s.env, v)
		}
	}
	return c, nil
}

// MinSecretLength is the shortest PLATFORM_TOKEN or METRICS_TOKEN accepted outside
// development mode: a short one can be guessed (a 2-character token fell in 610 tries).
const MinSecretLength = 32

// isLoopbackAddr reports whether a listen address (host:port) is on loopback only.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Policy is the lifecycle policy the settings describe.
func (c Config) Policy() *dispute.Policy {
	p := dispute.DefaultPolicy()
	p.ResponseWindow = c.ResponseWindow
	p.MaxInfoRequests = c.MaxInfoRequests
	p.MessagesPerHour = c.MessagesPerHour
	return &p
}

// parseDuration accepts Go durations plus a day suffix ("7d").
func parseDuration(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		const day = 24 * time.Hour
		if n > int(math.MaxInt64/day) || n < int(math.MinInt64/day) {
			return 0, fmt.Errorf("duration %q out of range", s)
		}
		return time.Duration(n) * day, nil
	}
	return time.ParseDuration(s)
}

func maskSecret(name, v string) string {
	if name == "database-url" {
		return db.MaskURL(v)
	}
	return "xxxxx"
}

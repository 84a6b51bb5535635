package graph

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"

	"resolutioncenter/auth"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/gqlhttp"
	"resolutioncenter/graph/wsproto"
	"resolutioncenter/observe"
	"resolutioncenter/ratelimit"
)

// Limits bound what one request may cost.
type Limits struct {
	// MaxBodyBytes caps a request body; larger bodies answer 413.
	MaxBodyBytes int64
	// MaxTokens caps the lexer tokens of a document.
	MaxTokens int
	// MaxDepth caps the nesting of selections.
	MaxDepth int
	// MaxComplexity caps the computed cost (see textUnit): connections cost their
	// page size times their selection, texts their size limit.
	MaxComplexity int
	// MaxResponseBytes caps the size of one response (one value of a subscription);
	// a larger one is answered with RESPONSE_TOO_LARGE alone (see ResponseBudget).
	// 0: no cap.
	MaxResponseBytes int64
	// Introspection enables __schema and __type.
	Introspection bool
}

// DefaultLimits are the limits used when a field is zero.
var DefaultLimits = Limits{MaxBodyBytes: 1 << 20, MaxTokens: 15000, MaxDepth: 15, MaxComplexity: 50000,
	MaxResponseBytes: 4 << 20, Introspection: true}

// Options configure the /graphql endpoint beyond its limits. Zero values disable the
// feature they name (no metrics, no tracing, no rate limit, no APQ cache...).
type Options struct {
	Limits Limits
	// Metrics, Tracer observe operations; nil disables them.
	Metrics *observe.Metrics
	Tracer  trace.Tracer
	// RateLimiter charges each operation its complexity; nil disables rate limiting.
	RateLimiter *ratelimit.Limiter
	// WriteLimiter charges each principal one unit per mutation; nil disables it.
	WriteLimiter *ratelimit.Limiter
	// APQCacheSize bounds the automatic persisted query cache; 0 disables APQ (and so
	// does PersistedOnly: APQ would let any client register any document).
	APQCacheSize int
	// Documents are the trusted documents clients may run by ID; nil: none.
	Documents *Documents
	// PersistedOnly runs nothing but Documents (and introspection-only documents
	// while introspection is on).
	PersistedOnly bool
	// DisableSuggestions hides "did you mean" hints in validation errors.
	DisableSuggestions bool
	// CORSOrigins lists the browser origins allowed to call the API cross-origin.
	CORSOrigins []string
	// DevMode also allows every loopback origin (a dev server on localhost:5173...).
	DevMode bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client
	// (for rate limits and the throttling of failed authentications); the peer's
	// address is the client otherwise.
	TrustedProxies []netip.Prefix
	// RequestTimeout bounds ordinary (non-streaming) HTTP requests, and the execution of
	// every query and mutation on every transport (SSE and WebSocket included; see
	// operationTimeout). Subscriptions are not bounded. 0: no bound.
	RequestTimeout time.Duration
	// WriteTimeout bounds the writing of each response, and of each message of an
	// event stream (SSE): a client that does not take it in time is disconnected,
	// and what the response held is released. 0: no bound. (WebSocket frames are
	// bounded by WebSocket.WriteTimeout.)
	WriteTimeout time.Duration
	// SSEKeepAlive is how often an SSE stream with nothing to send gets a comment line
	// (proxies with an idle timeout would otherwise close a quiet subscription). 0: never.
	SSEKeepAlive time.Duration
	// WebSocket tunes the WebSocket transport (allowed origins, init timeout...).
	WebSocket wsproto.Options
	// QueryPlanner runs the query operations it covers on the planned executor
	// (plan.go); false leaves every operation to gqlgen's executor.
	QueryPlanner bool
}

// newServer builds the gqlgen server: schema, limits, error presenter, observation,
// rate limiting, and the per-operation loaders. Transports are added by the caller.
func newServer(res *Resolver, o Options) *handler.Server {
	lim := o.Limits
	cfg := Config{Resolvers: res, Schema: servedSchema()}
	setComplexity(&cfg.Complexity)
	es := NewExecutableSchema(cfg).(*executableSchema)
	var schema graphql.ExecutableSchema = es
	if o.QueryPlanner {
		ps := newPlannedSchema(es, res)
		ps.tracer = o.Tracer
		if m := o.Metrics; m != nil {
			for _, r := range fallbackReasons {
				m.QueryFallbacks.WithLabelValues(string(r))
			}
			ps.onPlanned = m.QueriesPlanned.Inc
			ps.onFallback = func(reason string) { m.QueryFallbacks.WithLabelValues(reason).Inc() }
		}
		schema = ps
	}
	srv := handler.New(schema)
	srv.SetQueryCache(newDocCache[*ast.QueryDocument](1000, docCacheBytes))
	srv.SetParserTokenLimit(lim.MaxTokens)
	srv.SetErrorPresenter(presentError(res.Logger))
	srv.SetRecoverFunc(recoverPanic(res.Logger))
	srv.SetDisableSuggestion(o.DisableSuggestions)
	if o.DisableSuggestions {
		srv.SetValidationRulesFn(rulesWithoutSuggestions)
	}
	if lim.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(introspectionOff{})
	}
	apq := o.APQCacheSize > 0 && !o.PersistedOnly
	docs := o.Documents
	if docs == nil {
		docs = &Documents{} // none: a documentId is PERSISTED_QUERY_NOT_FOUND, not "no operation"
	}
	// Before APQ, which must not see an ID the manifest resolves.
	srv.Use(trustedDocuments{docs: docs, only: o.PersistedOnly, apq: apq, introspection: lim.Introspection, maxTokens: lim.MaxTokens})
	if apq {
		srv.Use(extension.AutomaticPersistedQuery{Cache: newDocCache[string](o.APQCacheSize, docCacheBytes)})
	}
	srv.Use(newShapeLimit(lim.MaxTokens)) // after APQ, which fills in the query
	srv.Use(depthLimit{max: lim.MaxDepth})
	// Before the cost, which prices a page by its size: first: 101 is refused as the
	// field refuses it, not priced as 100; before anything runs, whichever executor.
	srv.Use(argumentCheck{es: es})
	srv.Use(extension.FixedComplexityLimit(lim.MaxComplexity))
	// After it, before the rate limit, which then charges introspection too.
	srv.Use(introspectionCost{limit: lim.MaxComplexity, schema: servedSchema()})
	// Before the rate limits: a mutation over GET is answered 405 without a charge.
	srv.Use(gqlhttp.RefuseGETMutations{})
	if o.RateLimiter != nil {
		rl := rateLimit{limiter: o.RateLimiter}
		if o.Metrics != nil {
			rl.onLimit = o.Metrics.RateLimited.Inc
		}
		srv.Use(rl)
	}
	if o.WriteLimiter != nil {
		wl := writeLimit{limiter: o.WriteLimiter}
		if o.Metrics != nil {
			wl.onLimit = o.Metrics.RateLimited.Inc
		}
		srv.Use(wl)
	}
	srv.Use(observe.Operations{Metrics: o.Metrics, Logger: res.Logger, Tracer: o.Tracer, Principal: principalKind})
	// Inside the observation, which then sees the timed-out answer; on every transport.
	srv.Use(operationTimeout{d: o.RequestTimeout})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		ctx, gerr := recheckSocketOperation(ctx)
		if gerr != nil {
			return operationRejected(ctx, gerr)
		}
		p := auth.FromContext(ctx)
		return next(withStreamEnd(withLoaders(ctx, func() *Loaders {
			var merchantOf []string
			if p != nil {
				merchantOf = p.MerchantOf()
			}
			return NewLoaders(res.DB, merchantOf, o.Tracer)
		})))
	})
	srv.AroundResponses(streamEndResponse)
	// Shared fan-out responses wrap the response budget: a subscription's response is
	// executed (and held to the budget) once, then handed to every subscriber of its
	// class.
	srv.AroundResponses(sharedResponses(o.Metrics)) // reads hub-fed subscriptions
	if lim.MaxResponseBytes > 0 {
		srv.Use(responseBudget{max: lim.MaxResponseBytes}) // innermost: the others see what is sent
	}
	return srv
}

// principalKind names the caller's kind for logs, never its identity.
func principalKind(ctx context.Context) string {
	if p := auth.FromContext(ctx); p != nil {
		return string(p.Kind)
	}
	return "none"
}

// NewAPI is the /graphql endpoint: CORS, request timeout, body limit, authentication,
// then the GraphQL server with its transports.
func NewAPI(res *Resolver, authn *auth.Authenticator, o Options) http.Handler {
	srv := newServer(res, o)
	ws := o.WebSocket
	ws.AllowLoopback = ws.AllowLoopback || o.DevMode // loopback pages subscribe as they query (withCORS)
	addStreamingTransports(srv, res, authn, ws, o.SSEKeepAlive)
	addHTTPTransports(srv)
	h := withBodyLimit(o.Limits.MaxBodyBytes, withAuthentication(authn, withStreamWatch(authn, srv)))
	return withCORS(o.CORSOrigins, o.DevMode, allowMethods(withWriteDeadlines(o.WriteTimeout,
		withRequestTimeout(o.RequestTimeout, o.TrustedProxies, h))))
}

// addStreamingTransports adds the subscription transports: WebSocket
// (graphql-transport-ws, conformant to its protocol including close codes, by
// wsproto; legacy graphql-ws by gqlgen's stock transport) and Server-Sent Events
// (graphql-sse's distinct connections mode). They must come before POST, which
// would otherwise take SSE requests. WebSocket clients authenticate with the
// connection_init payload {"Authorization": "Bearer ..."} or the upgrade request's
// header; a rejected token closes the connection with 4403. ws tunes the WebSocket
// transport (allowed browser origins, init timeout, ...); its InitFunc is set here.
// Each token may hold as many open WebSocket connections as subscriptions
// (connectionKey); one more closes with 4429.
func addStreamingTransports(srv *handler.Server, res *Resolver, authn *auth.Authenticator, ws wsproto.Options, sseKeepAlive time.Duration) {
	ws.InitFunc = func(ctx context.Context, payload map[string]any) (context.Context, error) {
		if p := auth.FromContext(ctx); p != nil {
			if err := res.holdConnection(ctx, p); err != nil {
				return nil, err
			}
			return watchSocket(ctx, authn, p), nil
		}
		header, _ := payload["Authorization"].(string)
		if header == "" {
			header, _ = payload["authorization"].(string)
		}
		p, err := authn.FromHeader(ctx, header)
		if err != nil {
			var te *auth.ThrottledError
			if errors.As(err, &te) {
				return nil, &wsproto.CloseError{Code: wsproto.CloseTooManyInit, ErrorCode: string(dispute.CodeRateLimited), Reason: "Too many failed authentications"}
			}
			if auth.IsAuthError(err) {
				return nil, wsproto.ErrForbidden
			}
			return nil, &wsproto.CloseError{Code: wsproto.CloseInternalServerError, Reason: "Internal server error", Err: err}
		}
		if err := res.holdConnection(ctx, p); err != nil {
			return nil, err
		}
		if p != nil {
			ctx = watchSocket(auth.WithPrincipal(ctx, p), authn, p)
		}
		return ctx, nil
	}
	srv.AddTransport(wsproto.New(ws))
	srv.AddTransport(sseTransport{transport.SSE{KeepAlivePingInterval: sseKeepAlive}})
}

// addHTTPTransports adds the plain HTTP transports (GET and POST), which follow the
// GraphQL over HTTP spec. gqlhttp.POST claims every non-upgrade POST (to answer 415
// to other content types): add streaming transports (SSE, ...) before calling this.
func addHTTPTransports(srv *handler.Server) {
	srv.AddTransport(transport.Options{})
	srv.AddTransport(gqlhttp.GET{})
	srv.AddTransport(gqlhttp.POST{})
}

// withAuthentication puts the principal of the request's bearer token in the context. A
// request without a token goes on unauthenticated (introspection still answers); a
// bad token answers 401, an address that failed too often 429 with Retry-After, and a
// lookup the database cannot answer 503. The authenticator logs failures, rate-limited.
func withAuthentication(authn *auth.Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := authn.FromRequest(r)
		if err != nil {
			var te *auth.ThrottledError
			switch {
			case errors.As(err, &te):
				w.Header().Set("Retry-After", strconv.Itoa(te.Seconds()))
				writeJSONError(w, http.StatusTooManyRequests, "too many failed authentications from this address", "RATE_LIMITED")
			case auth.IsAuthError(err):
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				writeJSONError(w, http.StatusUnauthorized, "invalid or revoked token", "UNAUTHENTICATED")
			case errors.Is(r.Context().Err(), context.Canceled):
				// The client went away during the lookup: not an outage. 499 is what
				// proxies record for it; nobody reads it.
				writeJSONError(w, statusClientClosed, "request canceled", string(dispute.CodeCanceled))
			default:
				writeJSONError(w, http.StatusServiceUnavailable, "authentication unavailable", "UNAVAILABLE")
			}
			return
		}
		if p != nil {
			r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		}
		next.ServeHTTP(w, r)
	})
}

// statusClientClosed is the status recorded for a request whose client went away.
const statusClientClosed = 499

func writeJSONError(w http.ResponseWriter, status int, msg, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"errors":[{"message":"` + msg + `","extensions":{"code":"` + code + `"}}]}`))
}

// withBodyLimit answers 413 to bodies larger than max and caps what handlers can read.
func withBodyLimit(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "request body too large", "INVALID_ARGUMENT")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

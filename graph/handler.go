package graph

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"

	"resolutioncenter/auth"
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
	// MaxComplexity caps the computed cost; connections cost their page size times
	// their selection.
	MaxComplexity int
	// Introspection enables __schema and __type.
	Introspection bool
}

// DefaultLimits are the limits used when a field is zero.
var DefaultLimits = Limits{MaxBodyBytes: 1 << 20, MaxTokens: 15000, MaxDepth: 15, MaxComplexity: 50000, Introspection: true}

// Options configure the /graphql endpoint beyond its limits. Zero values disable the
// feature they name (no metrics, no tracing, no rate limit, no APQ cache...).
type Options struct {
	Limits Limits
	// Metrics, Tracer observe operations; nil disables them.
	Metrics *observe.Metrics
	Tracer  trace.Tracer
	// RateLimiter charges each operation its complexity; nil disables rate limiting.
	RateLimiter *ratelimit.Limiter
	// APQCacheSize bounds the automatic persisted query cache; 0 disables APQ.
	APQCacheSize int
	// DisableSuggestions hides "did you mean" hints in validation errors.
	DisableSuggestions bool
	// CORSOrigins lists the browser origins allowed to call the API cross-origin.
	CORSOrigins []string
	// RequestTimeout bounds ordinary (non-streaming) requests.
	RequestTimeout time.Duration
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
	cfg := Config{Resolvers: res}
	setComplexity(&cfg.Complexity)
	var schema graphql.ExecutableSchema = NewExecutableSchema(cfg)
	if o.QueryPlanner {
		ps := newPlannedSchema(schema.(*executableSchema), res)
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
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
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
	if o.APQCacheSize > 0 {
		srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](o.APQCacheSize)})
	}
	srv.Use(newShapeLimit(lim.MaxTokens)) // after APQ, which fills in the query
	srv.Use(depthLimit{max: lim.MaxDepth})
	srv.Use(extension.FixedComplexityLimit(lim.MaxComplexity))
	if o.RateLimiter != nil {
		rl := rateLimit{limiter: o.RateLimiter}
		if o.Metrics != nil {
			rl.onLimit = o.Metrics.RateLimited.Inc
		}
		srv.Use(rl)
	}
	srv.Use(observe.Operations{Metrics: o.Metrics, Logger: res.Logger, Tracer: o.Tracer, Principal: principalKind})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
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
	addStreamingTransports(srv, authn, o.WebSocket)
	addHTTPTransports(srv)
	h := withBodyLimit(o.Limits.MaxBodyBytes, withAuthentication(authn, res.Logger, srv))
	return withCORS(o.CORSOrigins, allowMethods(withRequestTimeout(o.RequestTimeout, h)))
}

// addStreamingTransports adds the subscription transports: WebSocket
// (graphql-transport-ws, conformant to its protocol including close codes, by
// wsproto; legacy graphql-ws by gqlgen's stock transport) and Server-Sent Events
// (graphql-sse's distinct connections mode). They must come before POST, which
// would otherwise take SSE requests. WebSocket clients authenticate with the
// connection_init payload {"Authorization": "Bearer ..."} or the upgrade request's
// header; a rejected token closes the connection with 4403. ws tunes the WebSocket
// transport (allowed browser origins, init timeout, ...); its InitFunc is set here.
func addStreamingTransports(srv *handler.Server, authn *auth.Authenticator, ws wsproto.Options) {
	ws.InitFunc = func(ctx context.Context, payload map[string]any) (context.Context, error) {
		if auth.FromContext(ctx) != nil {
			return ctx, nil
		}
		header, _ := payload["Authorization"].(string)
		if header == "" {
			header, _ = payload["authorization"].(string)
		}
		p, err := authn.FromHeader(ctx, header)
		if err != nil {
			if auth.IsAuthError(err) {
				return nil, wsproto.ErrForbidden
			}
			return nil, &wsproto.CloseError{Code: wsproto.CloseInternalServerError, Reason: "Internal server error", Err: err}
		}
		if p != nil {
			ctx = auth.WithPrincipal(ctx, p)
		}
		return ctx, nil
	}
	srv.AddTransport(wsproto.New(ws))
	srv.AddTransport(transport.SSE{})
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
// bad token answers 401.
func withAuthentication(authn *auth.Authenticator, logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := authn.FromRequest(r)
		if err != nil {
			if !auth.IsAuthError(err) {
				logger.ErrorContext(r.Context(), "authenticate", "err", err)
				writeJSONError(w, http.StatusServiceUnavailable, "authentication unavailable", "UNAVAILABLE")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeJSONError(w, http.StatusUnauthorized, "invalid or revoked token", "UNAUTHENTICATED")
			return
		}
		if p != nil {
			r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		}
		next.ServeHTTP(w, r)
	})
}

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

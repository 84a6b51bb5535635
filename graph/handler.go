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

	"resolutioncenter/auth"
	"resolutioncenter/graph/gqlhttp"
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

// NewServer builds the gqlgen server: schema, limits, error presenter, and the
// per-operation loaders. Transports are added by the caller.
func NewServer(res *Resolver, lim Limits) *handler.Server {
	cfg := Config{Resolvers: res}
	setComplexity(&cfg.Complexity)
	srv := handler.New(NewExecutableSchema(cfg))
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(lim.MaxTokens)
	srv.SetErrorPresenter(presentError(res.Logger))
	srv.SetRecoverFunc(recoverPanic(res.Logger))
	if lim.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(depthLimit{max: lim.MaxDepth})
	srv.Use(extension.FixedComplexityLimit(lim.MaxComplexity))
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		var merchantOf []string
		if p := auth.FromContext(ctx); p != nil {
			merchantOf = p.MerchantOf()
		}
		return next(withStreamEnd(withLoaders(ctx, NewLoaders(res.DB.Bun, merchantOf))))
	})
	srv.AroundResponses(streamEndResponse)
	return srv
}

// NewHTTPHandler is the /graphql endpoint: body limit, authentication, then the
// GraphQL server with its transports.
func NewHTTPHandler(res *Resolver, authn *auth.Authenticator, lim Limits) http.Handler {
	srv := NewServer(res, lim)
	AddStreamingTransports(srv, authn)
	AddHTTPTransports(srv)
	return LimitBody(lim.MaxBodyBytes, Authenticate(authn, res.Logger, srv))
}

// AddStreamingTransports adds the subscription transports: WebSocket
// (graphql-transport-ws and legacy graphql-ws) and Server-Sent Events. They must come
// before POST, which would otherwise take SSE requests. WebSocket clients authenticate
// with the connection_init payload {"Authorization": "Bearer ..."} or the upgrade
// request's header.
func AddStreamingTransports(srv *handler.Server, authn *auth.Authenticator) {
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		InitTimeout:           3 * time.Second,
		InitFunc: func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			if auth.FromContext(ctx) != nil {
				return ctx, nil, nil
			}
			p, err := authn.FromHeader(ctx, payload.Authorization())
			if err != nil {
				return transport.WithWebsocketCloseCode(ctx, 4403), nil, err
			}
			if p != nil {
				ctx = auth.WithPrincipal(ctx, p)
			}
			return ctx, nil, nil
		},
	})
	srv.AddTransport(transport.SSE{})
}

// AddHTTPTransports adds the plain HTTP transports (GET and POST), which follow the
// GraphQL over HTTP spec. gqlhttp.POST claims every non-upgrade POST (to answer 415
// to other content types): add streaming transports (SSE, ...) before calling this.
func AddHTTPTransports(srv *handler.Server) {
	srv.AddTransport(transport.Options{})
	srv.AddTransport(gqlhttp.GET{})
	srv.AddTransport(gqlhttp.POST{})
}

// Authenticate puts the principal of the request's bearer token in the context. A
// request without a token goes on unauthenticated (introspection still answers); a
// bad token answers 401.
func Authenticate(authn *auth.Authenticator, logger *slog.Logger, next http.Handler) http.Handler {
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

// LimitBody answers 413 to bodies larger than max and caps what handlers can read.
func LimitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "request body too large", "INVALID_ARGUMENT")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

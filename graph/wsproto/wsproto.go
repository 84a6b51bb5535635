// Package wsproto is a gqlgen transport for GraphQL over WebSocket that follows the
// graphql-transport-ws protocol
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md) to the letter,
// close codes included, where gqlgen's stock transport.Websocket does not.
//
// Connections that do not offer the graphql-transport-ws subprotocol (the legacy
// subscriptions-transport-ws "graphql-ws" protocol, or no subprotocol at all) are
// handed to gqlgen's stock transport.Websocket, configured from the same Options.
//
// Operations run through gqlgen's executor (CreateOperationContext,
// DispatchOperation and the response handler loop), so extensions, the error
// presenter and the AroundOperations/AroundResponses middleware apply as on HTTP.
package wsproto

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
)

// Subprotocols.
const (
	// Subprotocol is graphql-transport-ws, served by this package.
	Subprotocol = "graphql-transport-ws"
	// LegacySubprotocol is subscriptions-transport-ws, delegated to gqlgen.
	LegacySubprotocol = "graphql-ws"
)

// Close codes of the graphql-transport-ws protocol.
const (
	CloseInternalServerError = 4500
	CloseBadRequest          = 4400
	CloseUnauthorized        = 4401
	CloseForbidden           = 4403
	CloseInitTimeout         = 4408
	CloseSubscriberExists    = 4409
	CloseTooManyInit         = 4429
)

// Defaults for zero Options fields.
const (
	DefaultInitTimeout       = 3 * time.Second
	DefaultPingInterval      = 15 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultReadLimit         = 1 << 20
	DefaultLegacyKeepAlive   = 15 * time.Second
	DefaultShutdownWait      = 2 * time.Second
	maxCloseReasonBytes      = 123
	shutdownCloseReason      = "Server shutting down"
	invalidMessageReason     = "Invalid message received"
	unauthorizedReason       = "Unauthorized"
	forbiddenReason          = "Forbidden"
	initTimeoutReason        = "Connection initialisation timeout"
	tooManyInitReason        = "Too many initialisation requests"
	internalServerErrorReasn = "Internal server error"
)

// DefaultAllowedOrigins are the browser origins accepted, besides the same origin,
// when Options.AllowedOrigins is nil: loopback hosts on any port and scheme.
var DefaultAllowedOrigins = []string{"localhost", "127.0.0.1", "[::1]"}

// CloseError is an error an InitFunc returns to choose the close code and reason.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string { return e.Reason }

// ErrForbidden closes the connection with 4403 Forbidden; an InitFunc error that is
// not a *CloseError does the same.
var ErrForbidden = &CloseError{Code: CloseForbidden, Reason: forbiddenReason}

// InitFunc accepts or refuses a connection_init payload (nil when the message had
// none). It returns the context operations of the connection run in (typically
// with the authenticated principal added). A non-nil error refuses the connection:
// a *CloseError chooses the close code, anything else closes with 4403 Forbidden.
type InitFunc func(ctx context.Context, payload map[string]any) (context.Context, error)

// Options configure the transport. Zero values take the defaults.
type Options struct {
	// AllowedOrigins lists the browser origins accepted besides the same origin
	// (Origin's host equal to the request's Host). Requests without an Origin header
	// (non-browser clients) are always accepted. A pattern is matched with
	// path.Match against: the whole origin ("https://app.example.com") when it has a
	// scheme; the origin's host:port when it has a port ("app.example.com:8443");
	// otherwise the origin's host name, on any port ("*.example.com", "localhost").
	// "*" accepts every origin. nil means DefaultAllowedOrigins; an empty, non-nil
	// slice accepts the same origin only.
	AllowedOrigins []string
	// InitTimeout is how long a client has to send connection_init before the
	// connection closes with 4408 (default 3s).
	InitTimeout time.Duration
	// InitFunc authenticates connection_init; nil accepts every connection.
	InitFunc InitFunc
	// PingInterval is the interval of WebSocket ping frames (graphql-transport-ws
	// connections) that keep proxies from timing out idle connections and detect
	// dead peers: a peer that does not answer within WriteTimeout is disconnected.
	// Default 15s; negative disables.
	PingInterval time.Duration
	// WriteTimeout bounds each write to a client; a client that cannot take a
	// message in time is disconnected (default 10s).
	WriteTimeout time.Duration
	// ReadLimit caps the size of one client message in bytes (default 1 MiB).
	ReadLimit int64
	// LegacyKeepAlive is the interval of "ka" messages on legacy graphql-ws
	// connections (default 15s; negative disables).
	LegacyKeepAlive time.Duration
	// ShutdownWait bounds how long, on server shutdown, the connection waits for
	// its operations to send complete before closing with 1001 (default 2s).
	ShutdownWait time.Duration
	// Logger receives unexpected errors; nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.AllowedOrigins == nil {
		o.AllowedOrigins = DefaultAllowedOrigins
	}
	if o.InitTimeout <= 0 {
		o.InitTimeout = DefaultInitTimeout
	}
	if o.PingInterval == 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.LegacyKeepAlive == 0 {
		o.LegacyKeepAlive = DefaultLegacyKeepAlive
	}
	if o.ShutdownWait <= 0 {
		o.ShutdownWait = DefaultShutdownWait
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Transport is the gqlgen WebSocket transport. Build it with New.
type Transport struct {
	opts   Options
	legacy transport.Websocket
}

var _ graphql.Transport = (*Transport)(nil)

// New returns a transport with opts.
func New(opts Options) *Transport {
	o := opts.withDefaults()
	t := &Transport{opts: o}
	readLimit := o.ReadLimit
	legacy := transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			// The origin is checked by Do before delegating.
			InsecureSkipVerify: true,
			CompressionMode:    websocket.CompressionDisabled,
		}},
		InitTimeout:      o.InitTimeout,
		PayloadReadLimit: &readLimit,
		ErrorFunc: func(ctx context.Context, err error) {
			if !isClosedErr(err) {
				o.Logger.DebugContext(ctx, "legacy websocket", "err", err)
			}
		},
	}
	if o.LegacyKeepAlive > 0 {
		legacy.KeepAlivePingInterval = o.LegacyKeepAlive
	}
	if o.InitFunc != nil {
		legacy.InitFunc = func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			nctx, err := o.InitFunc(ctx, p)
			if err != nil {
				code, reason := closeFor(err)
				return transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), reason), nil, err
			}
			if nctx == nil {
				nctx = ctx
			}
			return nctx, nil, nil
		}
	}
	t.legacy = legacy
	return t
}

// Supports reports whether r asks for a WebSocket upgrade.
func (t *Transport) Supports(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "websocket") {
				return true
			}
		}
	}
	return false
}

// Do serves one WebSocket connection until it closes.
func (t *Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if !t.originAllowed(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"errors":[{"message":"origin not allowed","extensions":{"code":"FORBIDDEN"}}]}`))
		return
	}
	if !offers(r, Subprotocol) {
		t.legacy.Do(w, r, exec)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       []string{Subprotocol},
		InsecureSkipVerify: true, // checked above, with our own rules
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		// Accept has answered the request.
		t.opts.Logger.DebugContext(r.Context(), "websocket accept", "err", err)
		return
	}
	if ws.Subprotocol() != Subprotocol {
		_ = ws.Close(websocket.StatusProtocolError, "unsupported subprotocol")
		return
	}
	ws.SetReadLimit(t.opts.ReadLimit)
	serve(t, ws, r, exec)
}

// offers reports whether the client lists proto in Sec-WebSocket-Protocol.
func offers(r *http.Request, proto string) bool {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if strings.TrimSpace(p) == proto {
				return true
			}
		}
	}
	return false
}

// originAllowed applies the origin policy of Options.AllowedOrigins.
func (t *Transport) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // includes the opaque origin "null"
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, p := range t.opts.AllowedOrigins {
		if matchOrigin(p, u) {
			return true
		}
	}
	return false
}

func matchOrigin(pattern string, u *url.URL) bool {
	pattern = strings.ToLower(strings.TrimSpace(pattern))
	switch {
	case pattern == "":
		return false
	case pattern == "*":
		return true
	case strings.Contains(pattern, "://"):
		ok, _ := path.Match(pattern, strings.ToLower(u.Scheme+"://"+u.Host))
		return ok
	}
	if _, _, err := net.SplitHostPort(pattern); err == nil {
		ok, _ := path.Match(pattern, strings.ToLower(u.Host))
		return ok
	}
	ok, _ := path.Match(strings.Trim(pattern, "[]"), strings.ToLower(u.Hostname()))
	return ok
}

// closeFor maps an InitFunc error to a close code and reason.
func closeFor(err error) (int, string) {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code, truncateReason(ce.Reason)
	}
	return CloseForbidden, forbiddenReason
}

func truncateReason(s string) string {
	if len(s) <= maxCloseReasonBytes {
		return s
	}
	s = s[:maxCloseReasonBytes]
	// Do not cut a UTF-8 sequence in half.
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s
}

func isClosedErr(err error) bool {
	if err == nil {
		return true
	}
	if errors.Is(err, net.ErrClosed) || errors.Is(err, transport.ErrWebsocketClosed) || errors.Is(err, context.Canceled) {
		return true
	}
	return websocket.CloseStatus(err) != -1
}

// Package wsproto is a gqlgen transport for GraphQL over WebSocket that follows the
// graphql-transport-ws protocol
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md) to the letter,
// close codes included, where gqlgen's stock transport.Websocket does not.
//
// Connections that do not offer the graphql-transport-ws subprotocol (the legacy
// subscriptions-transport-ws "graphql-ws" protocol, or no subprotocol at all) are
// handed to gqlgen's stock transport.Websocket, configured from the same Options and
// run on a WebSocket implementation of this package (legacy.go) that gives them the
// same write timeout, operation limit and connection count.
//
// A request that asks for an upgrade but is not a valid WebSocket handshake (a POST,
// a missing key, another version) is answered in the API's JSON error shape.
//
// Operations run through gqlgen's executor (CreateOperationContext,
// DispatchOperation and the response handler loop), so extensions, the error
// presenter and the AroundOperations/AroundResponses middleware apply as on HTTP.
//
// wsproto imports nothing of this module.
package wsproto

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
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
	DefaultInitTimeout     = 3 * time.Second
	DefaultPingInterval    = 15 * time.Second
	DefaultWriteTimeout    = 10 * time.Second
	DefaultReadLimit       = 1 << 20
	DefaultLegacyKeepAlive = 15 * time.Second
	DefaultShutdownWait    = 2 * time.Second
	maxCloseReasonBytes    = 123
	shutdownCloseReason    = "Server shutting down"
	invalidMessageReason   = "Invalid message received"
	unauthorizedReason     = "Unauthorized"
	forbiddenReason        = "Forbidden"
	initTimeoutReason      = "Connection initialisation timeout"
	tooManyInitReason      = "Too many initialisation requests"
)

// DefaultAllowedOrigins are the browser origins accepted, besides the same origin,
// when Options.AllowedOrigins is nil: loopback hosts on any port and scheme.
var DefaultAllowedOrigins = []string{"localhost", "127.0.0.1", "[::1]"}

// CloseError is an error an InitFunc returns to choose the close code and reason
// (at most 123 bytes, sent to the client). Err, if any, is the cause: logged, never
// sent. ErrorCode is the GraphQL error code (extensions.code) of the legacy
// protocol's connection_error, which tells the cause as the other transports' errors
// do: empty, it is the close code's (ErrorCodeOf).
type CloseError struct {
	Code      int
	Reason    string
	ErrorCode string
	Err       error
}

// ErrorCodeOf returns the GraphQL error code (extensions.code) that stands for a close
// code on the legacy protocol: 4400 INVALID_ARGUMENT, 4401 and 4403 UNAUTHENTICATED
// (a token that is missing, unknown, revoked or expired), 4429 RATE_LIMITED, and
// INTERNAL for the others.
func ErrorCodeOf(closeCode int) string {
	switch closeCode {
	case CloseBadRequest:
		return "INVALID_ARGUMENT"
	case CloseUnauthorized, CloseForbidden:
		return "UNAUTHENTICATED"
	case CloseTooManyInit:
		return "RATE_LIMITED"
	}
	return "INTERNAL"
}

func (e *CloseError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *CloseError) Unwrap() error { return e.Err }

// ErrForbidden closes the connection with 4403 Forbidden; an InitFunc error that is
// not a *CloseError does the same.
var ErrForbidden = &CloseError{Code: CloseForbidden, Reason: forbiddenReason}

// InitFunc accepts or refuses a connection_init payload (nil when the message had
// none). It returns the context operations of the connection run in (typically
// with the authenticated principal added). A non-nil error refuses the connection:
// a *CloseError chooses the close code, anything else closes with 4403 Forbidden.
// When the returned context is later cancelled with a *CloseError as its cause
// (context.WithCancelCause), the connection closes with that code: so a session whose
// credential is revoked or expires ends with 4403. (Legacy graphql-ws connections,
// served by gqlgen's stock transport, close with its own code, 1000.)
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
	// AllowLoopback also accepts every http(s) origin on localhost or a loopback
	// address (IsLoopbackOrigin), any port: the rule the HTTP CORS handler applies
	// in development mode, so that a page allowed to query may also subscribe.
	AllowLoopback bool
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
	// ShutdownWait bounds how long, on server shutdown, the connection waits for its
	// operations (subscriptions are cancelled and send complete; queries and
	// mutations may finish) before closing with 1001 (default 2s).
	ShutdownWait time.Duration
	// BaseContext, when set, is the server's lifetime: when it ends, operations send
	// complete and connections close with 1001 (going away). It also lets the HTTP
	// handler return once the connection is upgraded, the connection running on in a
	// goroutine of its own, which saves 10 to 20 KB per idle connection (the HTTP
	// server's goroutine with its deep stack, and net/http's 4 KiB buffers). nil: the
	// request's context (the http.Server's BaseContext) plays this part, and the
	// handler runs until the connection ends.
	BaseContext context.Context
	// Conns, when set, counts open connections (both protocols), so a server
	// shutting down can wait until each has sent its last complete and close frame;
	// a connection upgraded after Conns.Close is closed at once with 1001.
	Conns *ConnGroup
	// MaxOperations bounds the concurrent operations (subscriptions) of one
	// connection, on both protocols; a subscribe (legacy: start) beyond it gets an
	// error message with code LIMIT_REACHED and the connection stays open. 0 means
	// 100; negative means no limit.
	MaxOperations int
	// OnConn, when set, is called with the connection's protocol (Subprotocol or
	// LegacySubprotocol) and +1 when a connection opens, -1 when it closes (for a
	// gauge of open connections).
	OnConn func(protocol string, delta int)
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
	if o.MaxOperations == 0 {
		o.MaxOperations = 100
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
		Implementation:   legacyImpl{opts: &t.opts},
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
				if code == CloseInternalServerError {
					o.Logger.ErrorContext(ctx, "websocket connection_init", "err", err)
				}
				// gqlgen sends the error's text in connection_error: the reason only;
				// legacyConn.WriteJSON adds the error code.
				if st, ok := ctx.Value(legacyInitKey{}).(*legacyInit); ok {
					st.refused(initErrorCode(err, code))
				}
				return transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), reason), nil, errors.New(reason)
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
	if status, msg := verifyHandshake(w, r); status != 0 {
		writeJSONError(w, status, msg, "INVALID_ARGUMENT")
		return
	}
	if !t.originAllowed(r) {
		writeJSONError(w, http.StatusForbidden, "origin not allowed", "FORBIDDEN")
		return
	}
	if canHijack(w) {
		w = smallBuffers{w}
	}
	if !offers(r, Subprotocol) {
		// The InitFunc's refusal reaches the connection (legacyImpl.Accept) through
		// the request's context, which gqlgen gives both.
		r = r.WithContext(context.WithValue(r.Context(), legacyInitKey{}, &legacyInit{}))
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

// verifyHandshake checks what coder/websocket's Accept checks before it upgrades
// (RFC 6455 section 4.2.1), so that a bad handshake is refused in the API's JSON error
// shape instead of Accept's plain text: it returns the status and the message, or 0.
// Like Accept, it sets the headers that tell the client what is expected.
func verifyHandshake(w http.ResponseWriter, r *http.Request) (int, string) {
	switch {
	case !r.ProtoAtLeast(1, 1):
		return http.StatusUpgradeRequired, "a WebSocket handshake needs HTTP/1.1"
	case !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket"):
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		return http.StatusUpgradeRequired, "a WebSocket handshake needs Connection: Upgrade and Upgrade: websocket"
	case r.Method != http.MethodGet:
		w.Header().Set("Allow", http.MethodGet)
		return http.StatusMethodNotAllowed, "a WebSocket handshake must use GET, not " + r.Method
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		w.Header().Set("Sec-WebSocket-Version", "13")
		return http.StatusBadRequest, "unsupported WebSocket version: only 13 is supported"
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return http.StatusBadRequest, "a WebSocket handshake needs exactly one Sec-WebSocket-Key"
	}
	if k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(keys[0])); err != nil || len(k) != 16 {
		return http.StatusBadRequest, "Sec-WebSocket-Key must be 16 bytes in base64"
	}
	return 0, ""
}

// headerHasToken reports whether a comma-separated header lists token (any case).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// writeJSONError answers a request that was not upgraded, in the API's error shape.
func writeJSONError(w http.ResponseWriter, status int, msg, code string) {
	b, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
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
	if strings.EqualFold(u.Host, r.Host) || t.opts.AllowLoopback && IsLoopbackOrigin(origin) {
		return true
	}
	for _, p := range t.opts.AllowedOrigins {
		if matchOrigin(p, u) {
			return true
		}
	}
	return false
}

// IsLoopbackOrigin reports whether a browser origin is http or https on localhost or
// a loopback address (127.0.0.0/8, ::1), any port: a page served by a development
// server on the developer's machine.
func IsLoopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// MatchOrigin reports whether a browser origin (scheme://host[:port]) matches an
// allowed-origin pattern: "*" (any); an origin pattern, scheme included, where "*",
// "?" and "[...]" match as in path.Match ("https://*.example.com"); or a host pattern
// of any scheme, with or without a port ("*.example.com", "localhost:5173"). Case does
// not matter. The HTTP CORS rules use it too (with origin patterns only), so that one
// CORS_ORIGINS entry means the same for HTTP and for WebSockets.
func MatchOrigin(pattern, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return matchOrigin(pattern, u)
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

// initErrorCode is the error code of an InitFunc error that closes with closeCode.
func initErrorCode(err error, closeCode int) string {
	var ce *CloseError
	if errors.As(err, &ce) && ce.ErrorCode != "" {
		return ce.ErrorCode
	}
	return ErrorCodeOf(closeCode)
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

// Buffer sizes of a hijacked connection: frames are mostly small, and larger reads
// and writes bypass bufio anyway.
const (
	readBufferSize  = 512
	writeBufferSize = 512
)

// smallBuffers hands coder/websocket the hijacked connection with small bufio
// buffers instead of net/http's 4 KiB ones, which would otherwise stay with every
// idle connection (net/http does not reuse them after a hijack; once the handler has
// returned, see Options.BaseContext, they are garbage).
type smallBuffers struct{ http.ResponseWriter }

func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// canHijack reports whether w, or a writer it wraps, is an http.Hijacker.
func canHijack(w http.ResponseWriter) bool {
	for {
		switch t := w.(type) {
		case http.Hijacker:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return false
		}
	}
}

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if brw.Writer.Buffered() > 0 {
		if err := brw.Writer.Flush(); err != nil {
			_ = conn.Close()
			return nil, nil, err
		}
	}
	// Bytes the client sent after its request and net/http already read must come
	// first, and stay Buffered(): coder/websocket takes them from there.
	pending := brw.Reader.Buffered()
	var r io.Reader = conn
	if pending > 0 {
		b, _ := brw.Reader.Peek(pending)
		r = io.MultiReader(bytes.NewReader(bytes.Clone(b)), conn)
	}
	br := bufio.NewReaderSize(r, max(readBufferSize, pending))
	if pending > 0 {
		if _, err := br.Peek(pending); err != nil {
			_ = conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, writeBufferSize)), nil
}

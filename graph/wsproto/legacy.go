package wsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// legacyImpl is the WebSocket implementation gqlgen's stock transport serves the legacy
// graphql-ws protocol on. It is coder/websocket, as gqlgen's own adapter, plus what
// every transport of this server has: each frame written within WriteTimeout (gqlgen's
// adapter writes without a deadline, so a client that stops reading would hold its
// connection and queued results forever), at most MaxOperations operations at once
// per connection, and the connection counted through OnConn and Conns (so that server
// shutdown waits for it as for the others).
type legacyImpl struct{ opts *Options }

var _ transport.WebsocketImplementation = legacyImpl{}

func (i legacyImpl) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	for k, vs := range o.ResponseHeader {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       slices.Clone(o.Subprotocols),
		InsecureSkipVerify: true, // Do checked the origin with our own rules
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	if i.opts.Conns != nil && !i.opts.Conns.join() {
		ws.Close(websocket.StatusGoingAway, "server shutting down")
		return nil, errShuttingDown
	}
	if i.opts.OnConn != nil {
		i.opts.OnConn(LegacySubprotocol, 1)
	}
	st, _ := r.Context().Value(legacyInitKey{}).(*legacyInit)
	return &legacyConn{ws: ws, opts: i.opts, init: st, active: map[string]bool{}}, nil
}

// legacyInitKey is the request context's key of the *legacyInit of a legacy connection.
type legacyInitKey struct{}

// legacyInit carries the error code of an InitFunc's refusal to the connection, which
// writes gqlgen's connection_error (whose payload is the error's text only).
type legacyInit struct{ code atomic.Pointer[string] }

func (s *legacyInit) refused(code string) { s.code.Store(&code) }

// errorCode is the code of a connection_error with message msg: the InitFunc's
// refusal's, else, for gqlgen's own (a message that is no JSON, or not
// connection_init), INVALID_ARGUMENT, and INTERNAL for anything else.
func (s *legacyInit) errorCode(msg string) string {
	if s != nil {
		if c := s.code.Load(); c != nil {
			return *c
		}
	}
	if msg == "invalid json" || strings.HasPrefix(msg, "unexpected message") {
		return "INVALID_ARGUMENT"
	}
	return "INTERNAL"
}

// legacyConn is one legacy connection (see legacyImpl).
type legacyConn struct {
	ws   *websocket.Conn
	opts *Options

	init *legacyInit // nil when served without Transport.Do

	mu        sync.Mutex
	active    map[string]bool // started operations that have not sent complete or error
	closing   chan struct{}   // set once WriteClose started the close handshake
	closeOnce sync.Once
}

// legacyMessage is the part of a graphql-ws message the limit needs.
type legacyMessage struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// NextReader returns the next client message, answering itself (and skipping) a start
// the connection may not run: over MaxOperations, or with an ID already running.
func (c *legacyConn) NextReader() (int, io.Reader, error) {
	for {
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			switch websocket.CloseStatus(err) {
			case websocket.StatusNormalClosure, websocket.StatusNoStatusRcvd:
				return int(typ), nil, transport.ErrWebsocketClosed
			}
			return int(typ), nil, err
		}
		data, bad := normalizeStart(data)
		code := "INVALID_ARGUMENT"
		if bad == "" {
			if bad = c.admit(data); bad != "" {
				code = "LIMIT_REACHED"
			}
		}
		if bad != "" {
			var m legacyMessage
			_ = json.Unmarshal(data, &m)
			payload, _ := json.Marshal([]map[string]any{{"message": bad, "extensions": map[string]any{"code": code}}})
			if err := c.write(frame(m.ID, "error", payload)); err != nil {
				return int(typ), nil, err
			}
			continue
		}
		return int(typ), bytes.NewReader(data), nil
	}
}

// normalizeStart checks a start message's payload as graphql-transport-ws checks a
// subscribe payload (parseSubscribe), and hands a documentId (or Relay's doc_id) to
// the executor as extensions.documentId, as every other transport does: gqlgen's
// legacy transport reads only query, operationName, variables and extensions, so a
// document sent by ID was "no operation provided", and it answered a payload that is
// no GraphQL request with an error that had no extensions.code. It returns the
// message to hand on, or why the start is refused (an INVALID_ARGUMENT error).
// Other messages, and what does not decode as a message, pass unchanged.
func normalizeStart(data []byte) ([]byte, string) {
	var m struct {
		Type    string          `json:"type"`
		ID      string          `json:"id"`
		Payload json.RawMessage `json:"payload"`
	}
	if json.Unmarshal(data, &m) != nil || m.Type != "start" {
		return data, ""
	}
	params, ok := parseSubscribe(m.Payload)
	if !ok {
		return data, "the start payload is not a GraphQL request: an object with a string query (or a documentId), and optional operationName, variables and extensions objects"
	}
	if _, ok := params.Extensions["documentId"]; !ok {
		return data, ""
	}
	out, err := json.Marshal(map[string]any{"id": m.ID, "type": m.Type, "payload": params})
	if err != nil {
		return data, "the start payload cannot be read"
	}
	return out, ""
}

// admit records a start message's operation, or returns why it is refused.
func (c *legacyConn) admit(data []byte) string {
	var m legacyMessage
	if json.Unmarshal(data, &m) != nil || m.Type != "start" {
		return "" // gqlgen answers malformed messages itself
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active[m.ID] {
		return "an operation with ID " + m.ID + " is already running on this connection"
	}
	if max := c.opts.MaxOperations; max > 0 && len(c.active) >= max {
		return fmt.Sprintf("at most %d concurrent operations per connection", max)
	}
	c.active[m.ID] = true
	return ""
}

// WriteJSON sends one message within WriteTimeout; a complete or error message ends
// its operation. A connection_error gets its error code: gqlgen sends only the text
// ({"message": ...}), where every other error of the server has extensions.code.
func (c *legacyConn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var m legacyMessage
	if json.Unmarshal(data, &m) == nil && m.ID != "" && (m.Type == "complete" || m.Type == "error") {
		c.mu.Lock()
		delete(c.active, m.ID)
		c.mu.Unlock()
	}
	if m.Type == "connection_error" {
		data = c.withErrorCode(data)
	}
	return c.write(data)
}

// withErrorCode adds extensions.code to a connection_error's payload that has none.
func (c *legacyConn) withErrorCode(data []byte) []byte {
	var m struct {
		Type    string          `json:"type"`
		Payload *gqlerror.Error `json:"payload"`
	}
	if json.Unmarshal(data, &m) != nil || m.Payload == nil {
		return data
	}
	if _, ok := m.Payload.Extensions["code"]; ok {
		return data
	}
	if m.Payload.Extensions == nil {
		m.Payload.Extensions = map[string]any{}
	}
	m.Payload.Extensions["code"] = c.init.errorCode(m.Payload.Message)
	out, err := json.Marshal(m)
	if err != nil {
		return data
	}
	return out
}

func (c *legacyConn) write(data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, data)
}

// WriteClose starts the close handshake in the background, as gqlgen's adapter does:
// coder/websocket waits up to 5 s for the peer's close frame.
func (c *legacyConn) WriteClose(code int, reason string) error {
	c.mu.Lock()
	if c.closing != nil {
		c.mu.Unlock()
		return nil
	}
	done := make(chan struct{})
	c.closing = done
	c.mu.Unlock()
	go func() {
		defer close(done)
		_ = c.ws.Close(websocket.StatusCode(code), truncateReason(reason))
	}()
	return nil
}

// Close ends the connection (unless the close handshake owns it) and uncounts it.
// gqlgen's transport calls it however the connection ends (init refused, client gone,
// server shutting down: its context is the request's, which the server's base context
// ends).
func (c *legacyConn) Close() error {
	c.closeOnce.Do(func() {
		if c.opts.OnConn != nil {
			c.opts.OnConn(LegacySubprotocol, -1)
		}
		if c.opts.Conns != nil {
			c.opts.Conns.leave()
		}
	})
	c.mu.Lock()
	handshake := c.closing != nil
	c.mu.Unlock()
	if handshake {
		return nil
	}
	return c.ws.CloseNow()
}

func (c *legacyConn) Subprotocol() string { return c.ws.Subprotocol() }

// SetReadLimit caps one client message (PayloadReadLimit).
func (c *legacyConn) SetReadLimit(limit int64) { c.ws.SetReadLimit(limit) }

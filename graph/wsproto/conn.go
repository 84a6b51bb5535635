package wsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// conn is one graphql-transport-ws connection. One goroutine (the HTTP request's,
// or its own with Options.BaseContext) reads and dispatches messages; each operation runs in its own goroutine
// (a subscription that takes its Wake only while it has values to send, see pump); writes
// are serialized by the WebSocket and bounded by WriteTimeout, so a slow client
// only ever holds up its own connection.
type conn struct {
	t    *Transport
	ws   *websocket.Conn
	exec graphql.GraphExecutor

	// ctx is the parent of everything the connection runs (InitFunc, operations);
	// canceled when the connection ends.
	ctx    context.Context
	cancel context.CancelFunc

	mu           sync.Mutex
	initReceived bool
	acked        bool
	closing      bool // the connection is closing: send nothing more
	shuttingDown bool // the server is shutting down: refuse new operations
	opCtx        context.Context
	ops          map[string]*operation
	initTimer    *time.Timer
	pingTimer    *time.Timer
	wg           sync.WaitGroup // running operations
}

type operation struct {
	id     string
	cancel context.CancelFunc
	// single: a query or mutation (one result), which server shutdown lets finish
	// within ShutdownWait instead of cancelling it.
	single atomic.Bool
}

func serve(t *Transport, ws *websocket.Conn, r *http.Request, exec graphql.GraphExecutor) {
	if t.opts.Conns != nil && !t.opts.Conns.join() {
		ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	// Operations outlive nothing but the connection: detach them from the request's
	// cancellation, which means server shutdown and is handled below.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	// The upgrade request's headers were used at the upgrade (origin, authentication,
	// request ID) and are not kept for the connection's lifetime: operations get none.
	c := &conn{t: t, ws: ws, exec: exec, ctx: ctx, cancel: cancel, opCtx: ctx}
	c.mu.Lock()
	c.initTimer = time.AfterFunc(t.opts.InitTimeout, c.initTimeout)
	if t.opts.PingInterval > 0 {
		c.pingTimer = time.AfterFunc(t.opts.PingInterval, c.ping)
	}
	c.mu.Unlock()

	// Server shutdown: the request's context (the server's base context) ends, or
	// Options.BaseContext does.
	base := r.Context()
	if t.opts.BaseContext != nil {
		base = t.opts.BaseContext
	}
	shutdownDone := make(chan struct{})
	stop := context.AfterFunc(base, func() {
		defer close(shutdownDone)
		c.shutdown()
	})
	if t.opts.OnConn != nil {
		t.opts.OnConn(Subprotocol, 1)
	}
	run := func() {
		defer func() {
			if t.opts.OnConn != nil {
				t.opts.OnConn(Subprotocol, -1)
			}
			if t.opts.Conns != nil {
				t.opts.Conns.leave()
			}
		}()
		c.readLoop()
		c.teardown()
		if !stop() {
			<-shutdownDone
		}
	}
	if t.opts.BaseContext != nil {
		// The handler returns and frees the HTTP server's goroutine and its deep
		// stack; the connection runs on in a goroutine of its own.
		go run()
		return
	}
	run()
}

func (c *conn) readLoop() {
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			if !isClosedErr(err) {
				c.t.opts.Logger.DebugContext(c.ctx, "websocket read", "err", err)
			}
			return
		}
		if !c.handleOffStack(data) {
			return
		}
	}
}

// handleOffStack handles a message on a short-lived goroutine and waits for it, so
// that the reading goroutine, which spends the connection's life blocked in Read,
// keeps a small stack. A goroutine's stack grows to fit its deepest call (the token
// lookup at connection_init goes through the database driver) and is only shrunk
// while less than a quarter of it is in use, which the blocked Read alone exceeds:
// handling messages in place cost 8 KB of stack per idle connection instead of 4.
func (c *conn) handleOffStack(data []byte) bool {
	done := make(chan bool, 1)
	go func() {
		defer func() {
			// A panic here would otherwise end the process: this goroutine is not
			// the HTTP server's, which recovers its handlers' panics.
			if r := recover(); r != nil {
				c.t.opts.Logger.ErrorContext(c.ctx, "websocket message panic", "err", r)
				done <- c.closeWith(CloseInternalServerError, "Internal server error")
			}
		}()
		done <- c.handle(data)
	}()
	return <-done
}

// inMessage is a client message; fields are validated per type.
type inMessage struct {
	ID      json.RawMessage `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// handle processes one client message; false means the connection is closing.
func (c *conn) handle(data []byte) bool {
	start := graphql.Now()
	var m inMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return c.closeWith(CloseBadRequest, invalidMessageReason)
	}
	switch m.Type {
	case "connection_init":
		if !objectOrAbsent(m.Payload) {
			return c.closeWith(CloseBadRequest, invalidMessageReason)
		}
		return c.onInit(m.Payload)
	case "ping":
		if !objectOrAbsent(m.Payload) {
			return c.closeWith(CloseBadRequest, invalidMessageReason)
		}
		if present(m.Payload) {
			_ = c.write(frame("", "pong", m.Payload))
		} else {
			_ = c.write([]byte(`{"type":"pong"}`))
		}
		return true
	case "pong":
		if !objectOrAbsent(m.Payload) {
			return c.closeWith(CloseBadRequest, invalidMessageReason)
		}
		return true
	case "subscribe":
		id, ok := parseID(m.ID)
		if !ok {
			return c.closeWith(CloseBadRequest, invalidMessageReason)
		}
		params, ok := parseSubscribe(m.Payload)
		if !ok {
			return c.closeWith(CloseBadRequest, invalidMessageReason)
		}
		params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
		return c.onSubscribe(id, params)
	case "complete":
		id, ok := parseID(m.ID)
		if !ok {
			return c.closeWith(CloseBadRequest, invalidMessageReason)
		}
		c.onComplete(id)
		return true
	default:
		// Unknown types, and server-to-client types sent by the client.
		return c.closeWith(CloseBadRequest, invalidMessageReason)
	}
}

func (c *conn) onInit(payload json.RawMessage) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	if c.initReceived {
		c.mu.Unlock()
		return c.closeWith(CloseTooManyInit, tooManyInitReason)
	}
	c.initReceived = true
	c.initTimer.Stop()
	c.mu.Unlock()

	var p map[string]any
	if present(payload) {
		if err := decode(payload, &p); err != nil {
			return c.closeWith(CloseBadRequest, invalidMessageReason)
		}
	}
	ctx := c.ctx
	if f := c.t.opts.InitFunc; f != nil {
		nctx, err := f(ctx, p)
		if err != nil {
			code, reason := closeFor(err)
			if code == CloseInternalServerError {
				c.t.opts.Logger.ErrorContext(ctx, "websocket connection_init", "err", err)
			}
			return c.closeWith(code, reason)
		}
		if nctx != nil {
			ctx = nctx
		}
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	c.opCtx = ctx
	c.acked = true
	c.mu.Unlock()
	// The InitFunc's context may end the connection: cancelled with a *CloseError as
	// its cause (a revoked token, an expired JWT), the connection closes with that code.
	context.AfterFunc(ctx, func() {
		var ce *CloseError
		if errors.As(context.Cause(ctx), &ce) {
			c.closeWith(ce.Code, ce.Reason)
		}
	})
	_ = c.write([]byte(`{"type":"connection_ack"}`))
	return true
}

func (c *conn) onSubscribe(id string, params *graphql.RawParams) bool {
	c.mu.Lock()
	if c.closing || c.shuttingDown {
		c.mu.Unlock()
		return !c.closing
	}
	if !c.acked {
		c.mu.Unlock()
		return c.closeWith(CloseUnauthorized, unauthorizedReason)
	}
	if _, dup := c.ops[id]; dup {
		c.mu.Unlock()
		return c.closeWith(CloseSubscriberExists, "Subscriber for "+id+" already exists")
	}
	if max := c.t.opts.MaxOperations; max > 0 && len(c.ops) >= max {
		c.mu.Unlock()
		// Refuse this operation only; the connection and its other operations go on.
		_ = c.write(frame(id, "error", []byte(fmt.Sprintf(
			`[{"message":"at most %d concurrent operations per connection","extensions":{"code":"LIMIT_REACHED"}}]`, max))))
		return true
	}
	ctx, cancel := context.WithCancel(c.opCtx)
	o := &operation{id: id, cancel: cancel}
	if c.ops == nil {
		c.ops = make(map[string]*operation)
	}
	c.ops[id] = o
	c.wg.Add(1)
	c.mu.Unlock()
	go c.run(ctx, o, params)
	return true
}

func (c *conn) onComplete(id string) {
	c.mu.Lock()
	o := c.ops[id]
	if o != nil {
		delete(c.ops, id)
	}
	c.mu.Unlock()
	if o != nil {
		o.cancel()
	}
}

// run executes one operation through gqlgen's executor and streams its results.
// A subscription whose resolver takes the operation's Wake (see StreamWake) is then
// read only when its channel has something: run returns, and a pump goroutine is
// started for each burst of values, so an idle subscription holds no goroutine.
func (c *conn) run(ctx context.Context, o *operation, params *graphql.RawParams) {
	handedOver := false
	defer func() {
		if !handedOver {
			o.cancel()
			c.wg.Done()
		}
	}()
	ctx = graphql.StartOperationTrace(ctx)
	var rc *graphql.OperationContext
	defer c.recoverOp(ctx, o, &rc)

	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs == nil && rc.Operation != nil && rc.Operation.Operation != ast.Subscription {
		o.single.Store(true)
	}
	if errs != nil {
		// A request error (syntax, validation, variables): the protocol's error
		// message, which ends the operation without complete.
		c.finish(o, "error", c.errorsPayload(ctx, rc, errs))
		return
	}
	var wake *Wake
	if rc.Operation.Operation == ast.Subscription {
		wake = &Wake{}
		ctx = withWake(ctx, wake)
	}
	responses, rctx := c.exec.DispatchOperation(graphql.WithOperationContext(ctx, rc), rc)
	if wake != nil && wake.isClaimed() {
		handedOver = true
		wake.install(func() { c.pump(ctx, o, rc, wake, responses, rctx) })
		return
	}
	for {
		resp := responses(rctx)
		if resp == nil {
			break
		}
		if !c.sendResponse(o, resp) {
			return
		}
	}
	c.finish(o, "complete", nil)
}

// pump reads a woken subscription's values while there are any, then returns; the
// next Ready starts it again. At the end of the stream it completes the operation.
func (c *conn) pump(ctx context.Context, o *operation, rc *graphql.OperationContext, w *Wake,
	responses graphql.ResponseHandler, rctx context.Context) {
	end := func() {
		w.finish()
		o.cancel()
		c.wg.Done()
	}
	defer func() {
		if r := recover(); r != nil {
			c.recovered(ctx, o, rc, r)
			end()
		}
	}()
	for {
		switch w.next() {
		case 0:
			return
		case 1:
			if payload, ok := w.preparedNext(rctx); ok {
				if c.send(o, frame(o.id, "next", payload)) {
					continue
				}
				end()
				return
			}
			resp := responses(rctx) // one value is in the channel: does not block
			if resp != nil && c.sendResponse(o, resp) {
				continue
			}
			// The operation was cancelled (completed by the client, or the
			// connection is closing), or its client is gone.
			if resp == nil {
				c.finish(o, "complete", nil)
			}
			end()
			return
		case 2:
			// Closed: what is left in the channel, then the stream's end (and its
			// final error, if any), all without blocking.
			for {
				if payload, ok := w.preparedNext(rctx); ok {
					if !c.send(o, frame(o.id, "next", payload)) {
						break
					}
					continue
				}
				resp := responses(rctx)
				if resp == nil {
					c.finish(o, "complete", nil)
					break
				}
				if !c.sendResponse(o, resp) {
					break
				}
			}
			end()
			return
		}
	}
}

// sendResponse writes one result of an operation; false means stop.
func (c *conn) sendResponse(o *operation, resp *graphql.Response) bool {
	b, err := json.Marshal(resp)
	if err != nil {
		panic(err)
	}
	return c.send(o, frame(o.id, "next", b))
}

// recoverOp turns a panic of an operation into its error message.
func (c *conn) recoverOp(ctx context.Context, o *operation, rc **graphql.OperationContext) {
	if r := recover(); r != nil {
		c.recovered(ctx, o, *rc, r)
	}
}

func (c *conn) recovered(ctx context.Context, o *operation, rc *graphql.OperationContext, r any) {
	var err error
	if rc != nil && rc.RecoverFunc != nil {
		err = rc.RecoverFunc(ctx, r)
	} else {
		err = fmt.Errorf("internal system error: %v", r)
	}
	c.t.opts.Logger.ErrorContext(ctx, "websocket operation panic", "err", err)
	c.finish(o, "error", c.errorsPayload(ctx, rc, gqlerror.List{asGQLError(err)}))
}

func (c *conn) errorsPayload(ctx context.Context, rc *graphql.OperationContext, errs gqlerror.List) []byte {
	if rc != nil {
		ctx = graphql.WithOperationContext(ctx, rc)
	}
	resp := c.exec.DispatchError(ctx, errs)
	list := resp.Errors
	if len(list) == 0 {
		list = errs
	}
	b, err := json.Marshal(list)
	if err != nil {
		b = []byte(`[{"message":"internal system error"}]`)
	}
	return b
}

// send writes a message of a running operation, unless the client completed it or
// the connection is closing; false means stop.
func (c *conn) send(o *operation, msg []byte) bool {
	c.mu.Lock()
	ok := !c.closing && c.ops[o.id] == o
	c.mu.Unlock()
	return ok && c.write(msg) == nil
}

// finish ends an operation with a last message (complete or error), unless the
// client completed it or the connection is closing. The id is released first so
// that the client may reuse it as soon as it sees the message.
func (c *conn) finish(o *operation, typ string, payload []byte) {
	c.mu.Lock()
	mine := c.ops[o.id] == o
	if mine {
		delete(c.ops, o.id)
	}
	ok := mine && !c.closing
	c.mu.Unlock()
	if ok {
		_ = c.write(frame(o.id, typ, payload))
	}
}

// write sends one text message within WriteTimeout. On error the WebSocket is
// closed, which ends the read loop and with it the connection.
func (c *conn) write(msg []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.t.opts.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, msg)
}

// closeWith closes the connection with a protocol close code; it returns false for
// handle's convenience.
func (c *conn) closeWith(code int, reason string) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	c.closing = true
	c.mu.Unlock()
	c.doClose(code, reason)
	return false
}

func (c *conn) doClose(code int, reason string) {
	c.cancelAll()
	_ = c.ws.Close(websocket.StatusCode(code), truncateReason(reason))
}

func (c *conn) cancelAll() {
	c.cancel()
	c.mu.Lock()
	ops := make([]*operation, 0, len(c.ops))
	for _, o := range c.ops {
		ops = append(ops, o)
	}
	c.mu.Unlock()
	for _, o := range ops {
		o.cancel()
	}
}

func (c *conn) initTimeout() {
	c.mu.Lock()
	if c.initReceived || c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.mu.Unlock()
	c.doClose(CloseInitTimeout, initTimeoutReason)
}

// ping sends a WebSocket ping frame and waits for the pong. A peer whose pong does not
// come within WriteTimeout is taken for gone and disconnected (coder/websocket only
// reports the missing pong: the connection, its subscriptions and their share of the
// subscription limit would otherwise stay, with no more pings sent).
func (c *conn) ping() {
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.t.opts.WriteTimeout)
	err := c.ws.Ping(ctx)
	cancel()
	if err != nil {
		c.mu.Lock()
		already := c.closing
		c.closing = true
		c.mu.Unlock()
		if !already {
			c.t.opts.Logger.DebugContext(c.ctx, "websocket peer did not answer a ping", "err", err)
			c.cancelAll()
			_ = c.ws.CloseNow() // ends the read loop, which tears the connection down
		}
		return
	}
	c.mu.Lock()
	if !c.closing {
		c.pingTimer.Reset(c.t.opts.PingInterval)
	}
	c.mu.Unlock()
}

// shutdown runs when the server's base context ends: subscriptions end and send
// complete, queries and mutations get ShutdownWait to finish, then the connection
// closes with 1001 going away.
func (c *conn) shutdown() {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.shuttingDown = true
	ops := make([]*operation, 0, len(c.ops))
	for _, o := range c.ops {
		ops = append(ops, o)
	}
	c.mu.Unlock()
	for _, o := range ops {
		if !o.single.Load() {
			o.cancel()
		}
	}
	// No operation can start any more (shuttingDown), so Wait is safe here.
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	t := time.NewTimer(c.t.opts.ShutdownWait)
	select {
	case <-done:
	case <-t.C:
	}
	t.Stop()
	c.mu.Lock()
	already := c.closing
	c.closing = true
	c.mu.Unlock()
	if !already {
		c.doClose(int(websocket.StatusGoingAway), shutdownCloseReason)
	}
}

// teardown releases everything once the read loop has ended.
func (c *conn) teardown() {
	c.mu.Lock()
	c.closing = true
	c.initTimer.Stop()
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	c.mu.Unlock()
	c.cancelAll()
	_ = c.ws.CloseNow()
	c.wg.Wait()
	c.mu.Lock()
	c.ops = nil
	c.mu.Unlock()
}

// frame builds {"id":id,"type":typ,"payload":payload} without re-encoding payload.
func frame(id, typ string, payload []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(id) + len(typ) + len(payload) + 40)
	b.WriteByte('{')
	if id != "" {
		q, _ := json.Marshal(id)
		b.WriteString(`"id":`)
		b.Write(q)
		b.WriteByte(',')
	}
	b.WriteString(`"type":"`)
	b.WriteString(typ)
	b.WriteByte('"')
	if len(payload) > 0 {
		b.WriteString(`,"payload":`)
		b.Write(payload)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func parseID(raw json.RawMessage) (string, bool) {
	var id string
	if len(raw) == 0 || json.Unmarshal(raw, &id) != nil || id == "" {
		return "", false
	}
	return id, true
}

// parseSubscribe validates a subscribe payload: an object with a string query
// (or, for persisted documents, extensions or a documentId), and optional
// operationName, variables and extensions of the right types. A documentId (or
// Relay's doc_id) is handed to the executor as extensions.documentId, as the HTTP
// transports (gqlhttp.ExtensionDocumentID) do.
func parseSubscribe(raw json.RawMessage) (*graphql.RawParams, bool) {
	if !isObject(raw) {
		return nil, false
	}
	var p struct {
		Query         *string        `json:"query"`
		OperationName *string        `json:"operationName"`
		Variables     map[string]any `json:"variables"`
		Extensions    map[string]any `json:"extensions"`
		DocumentID    *string        `json:"documentId"`
		DocID         *string        `json:"doc_id"`
	}
	if err := decode(raw, &p); err != nil {
		return nil, false
	}
	if p.DocumentID == nil {
		p.DocumentID = p.DocID
	}
	if p.DocumentID != nil {
		if *p.DocumentID == "" {
			return nil, false
		}
		if p.Extensions == nil {
			p.Extensions = map[string]any{}
		}
		p.Extensions["documentId"] = *p.DocumentID
	}
	if p.Query == nil && p.Extensions == nil {
		return nil, false
	}
	params := &graphql.RawParams{Variables: p.Variables, Extensions: p.Extensions}
	if p.Query != nil {
		params.Query = *p.Query
	}
	if p.OperationName != nil {
		params.OperationName = *p.OperationName
	}
	return params, true
}

// decode unmarshals with json.Number for numbers, as gqlgen's transports do.
func decode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

func present(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

func objectOrAbsent(raw json.RawMessage) bool { return !present(raw) || isObject(raw) }

func asGQLError(err error) *gqlerror.Error {
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		return ge
	}
	return &gqlerror.Error{Message: err.Error()}
}

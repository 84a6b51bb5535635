package graph

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/auth"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/gqlhttp"
	"resolutioncenter/graph/wsproto"
)

// Long-lived sessions (a WebSocket connection, an SSE stream) hold their credential for
// as long as they last, so they are watched (auth.Authenticator.Watch): a token revoked
// by any process, or a JWT that expires, ends the session at once; a WebSocket closes
// with 4403, an SSE stream sends a last UNAUTHENTICATED error and ends. Besides, every
// operation on a WebSocket re-checks the credential first (auth.Authenticator.Recheck).

type socketKey struct{}

// connectionKey is what the WebSocket connection limit counts against: the token, as
// for subscriptions (subscriptionKey), or without a token the client's address (an
// IPv6 client's /64, and its /48 as well, which holds auth.AggregateFactor times as
// many: see aggregateKey). Connections cost the server memory whether or not they run
// anything, so one credential (or one address without any) may hold no more of them
// than it may hold subscriptions: a token could otherwise open connections without
// end, each idle one a goroutine and its buffers.
func connectionKey(ctx context.Context, p *auth.Principal) string {
	if p == nil {
		return "addr:" + auth.ClientAddr(ctx)
	}
	return subscriptionKey(p)
}

// errTooManyConnections closes a WebSocket connection over the limit (4429; on the
// legacy protocol a connection_error with code LIMIT_REACHED, as a subscription over
// its limit); the reason says what the limit counts: a token, or without one the
// client's address.
func errTooManyConnections(limit int, byAddress bool) error {
	per := "token"
	if byAddress {
		per = "client address"
	}
	return &wsproto.CloseError{Code: wsproto.CloseTooManyInit, ErrorCode: string(dispute.CodeLimitReached),
		Reason: "Too many connections: at most " + strconv.Itoa(limit) + " per " + per}
}

// holdConnection counts an initialised WebSocket connection against its key's limit
// until ctx, the connection's context, ends; over the limit it returns the error
// that closes the connection (4429).
func (r *Resolver) holdConnection(ctx context.Context, p *auth.Principal) error {
	limit := r.maxSessions()
	parent := ""
	if p == nil {
		parent = aggregateKey(ctx) // an IPv6 /64 also counts against its /48
	}
	release, ok := r.conns.takeWithin(connectionKey(ctx, p), limit, parent, limit*auth.AggregateFactor)
	if !ok {
		return errTooManyConnections(limit, p == nil)
	}
	context.AfterFunc(ctx, release)
	return nil
}

// watchSocket makes a WebSocket's operation context end with a 4403 close when p's
// credential is revoked or expires, and marks it for per-operation re-checks.
func watchSocket(ctx context.Context, authn *auth.Authenticator, p *auth.Principal) context.Context {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := authn.Watch(p, func(err error) {
		cancel(&wsproto.CloseError{Code: wsproto.CloseForbidden, Reason: "Forbidden: " + endReason(err), Err: err})
	})
	context.AfterFunc(ctx, stop)
	return context.WithValue(ctx, socketKey{}, authn)
}

func endReason(err error) string {
	if err == auth.ErrExpired { // not errors.Is: the sentinels share their code
		return "token expired"
	}
	return "token revoked"
}

// withStreamWatch watches the credential of SSE requests: when it is revoked or
// expires, the request's context is cancelled with the reason, which ends the stream
// after a last error (streamEndResponse).
func withStreamWatch(authn *auth.Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if p == nil || !isStreaming(r) || gqlhttp.IsWebSocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancelCause(r.Context())
		stop := authn.Watch(p, cancel)
		defer stop()
		defer cancel(nil)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recheckSocketOperation re-validates the credential of a WebSocket before each of its
// operations and runs it with the fresh principal; a revoked or expired one answers
// UNAUTHENTICATED (and the watch closes the connection).
func recheckSocketOperation(ctx context.Context) (context.Context, *gqlerror.Error) {
	authn, ok := ctx.Value(socketKey{}).(*auth.Authenticator)
	p := auth.FromContext(ctx)
	if !ok || p == nil {
		return ctx, nil
	}
	np, err := authn.Recheck(ctx, p)
	var ce *wsproto.CloseError
	if err != nil && errors.As(context.Cause(ctx), &ce) && ce.Err != nil {
		err = ce.Err // the session ended meanwhile (revoked, expired): say why, not "unavailable"
	}
	if err != nil {
		code := dispute.CodeOf(err)
		msg := err.Error()
		if code != dispute.CodeUnauthenticated {
			code, msg = dispute.CodeUnavailable, "authentication unavailable"
		}
		return ctx, &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": string(code)}}
	}
	return auth.WithPrincipal(ctx, np), nil
}

// credentialEnd is the final error of a stream whose credential ended, or nil.
func credentialEnd(ctx context.Context) *gqlerror.Error {
	cause := context.Cause(ctx)
	if cause != auth.ErrRevoked && cause != auth.ErrExpired {
		return nil
	}
	return &gqlerror.Error{Message: cause.Error(), Extensions: map[string]any{"code": string(dispute.CodeUnauthenticated)}}
}

// operationRejected answers an operation refused before it ran.
func operationRejected(ctx context.Context, err *gqlerror.Error) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{err}})
}

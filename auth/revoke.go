package auth

import (
	"context"
	"sync"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
)

// Revocation reaches every open connection: the transports (WebSocket connections,
// SSE streams) register each authenticated session with Watch, and a revocation
// committed by any process (db's change feed calls Revoked) drops the token from the
// principal cache and ends its sessions at once; a JWT's session ends when the JWT
// expires. A session authenticated by PLATFORM_TOKEN has no token ID: it can only end
// with a restart that changes PLATFORM_TOKEN.

// ErrRevoked ends the sessions of a revoked token.
var ErrRevoked = &dispute.Error{Code: dispute.CodeUnauthenticated, Message: "the token was revoked"}

// ErrExpired ends the session of an expired token (a JWT past its exp).
var ErrExpired = &dispute.Error{Code: dispute.CodeUnauthenticated, Message: "the token expired"}

// sessions are the watched sessions by token ID.
type sessions struct {
	mu    sync.Mutex
	byTok map[string]map[*session]struct{}
}

type session struct {
	end  func(error)
	once sync.Once
}

func (s *session) stop(err error) { s.once.Do(func() { s.end(err) }) }

// Watch registers a session of p (a WebSocket connection, an SSE stream): end is called
// once, with ErrRevoked when p's token is revoked or ErrExpired when it expires. Call
// the returned stop when the session ends on its own.
func (a *Authenticator) Watch(p *Principal, end func(error)) (stop func()) {
	s := &session{end: end}
	var timer *time.Timer
	if !p.Expires.IsZero() {
		timer = time.AfterFunc(time.Until(p.Expires), func() { s.stop(ErrExpired) })
	}
	id := p.TokenID
	if id != "" {
		a.sess.mu.Lock()
		if a.sess.byTok == nil {
			a.sess.byTok = map[string]map[*session]struct{}{}
		}
		if a.sess.byTok[id] == nil {
			a.sess.byTok[id] = map[*session]struct{}{}
		}
		a.sess.byTok[id][s] = struct{}{}
		a.sess.mu.Unlock()
		if a.revocationCount() != p.gen {
			// A revocation was announced since the token was looked up: it may have
			// been this one, before the session was there to be ended.
			go a.verifySession(s, id)
		}
	}
	return func() {
		if timer != nil {
			timer.Stop()
		}
		if id != "" {
			a.sess.mu.Lock()
			delete(a.sess.byTok[id], s)
			if len(a.sess.byTok[id]) == 0 {
				delete(a.sess.byTok, id)
			}
			a.sess.mu.Unlock()
		}
		s.once.Do(func() {})
	}
}

// verifySession ends s if its token is revoked (see Watch).
func (a *Authenticator) verifySession(s *session, tokenID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	revoked, err := a.Store.RevokedTokens(ctx, []string{tokenID})
	if err != nil {
		a.flog.record(ctx, "", "error", err)
		return
	}
	if len(revoked) > 0 {
		s.stop(ErrRevoked)
	}
}

// Sessions returns how many sessions are watched (for tests and metrics).
func (a *Authenticator) Sessions() int {
	a.sess.mu.Lock()
	defer a.sess.mu.Unlock()
	n := 0
	for _, m := range a.sess.byTok {
		n += len(m)
	}
	return n
}

// Revoked drops a revoked token from the cache and ends its sessions. The change feed
// calls it for every revocation committed by any process (it implements
// db.RevocationSink).
func (a *Authenticator) Revoked(tokenID string) {
	a.mu.Lock()
	a.revocations++
	for h, c := range a.cache {
		if c.p.TokenID == tokenID {
			delete(a.cache, h)
		}
	}
	a.mu.Unlock()
	a.endSessions(tokenID, ErrRevoked)
}

func (a *Authenticator) endSessions(tokenID string, err error) {
	a.sess.mu.Lock()
	list := a.sess.byTok[tokenID]
	delete(a.sess.byTok, tokenID)
	a.sess.mu.Unlock()
	for s := range list {
		s.stop(err)
	}
}

// ResyncRevocations runs when revocations may have been missed (the LISTEN connection
// was down): it empties the principal cache and re-checks the tokens of every watched
// session against the store, ending those revoked meanwhile.
func (a *Authenticator) ResyncRevocations() {
	a.mu.Lock()
	a.revocations++
	a.cache = nil
	a.mu.Unlock()
	a.sess.mu.Lock()
	ids := make([]string, 0, len(a.sess.byTok))
	for id := range a.sess.byTok {
		ids = append(ids, id)
	}
	a.sess.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	revoked, err := a.Store.RevokedTokens(ctx, ids)
	if err != nil {
		a.flog.record(ctx, "", "error", err)
		return
	}
	for _, id := range revoked {
		a.endSessions(id, ErrRevoked)
	}
}

var _ db.RevocationSink = (*Authenticator)(nil)

// Recheck re-validates the principal of a long-lived session before one of its
// operations: a revoked token or an expired JWT is refused (UNAUTHENTICATED), and a
// token's principal is refreshed (team companies, through the cache).
func (a *Authenticator) Recheck(ctx context.Context, p *Principal) (*Principal, error) {
	if !p.Expires.IsZero() && !time.Now().Before(p.Expires) {
		return nil, ErrExpired
	}
	if p.hash == "" {
		return p, nil // PLATFORM_TOKEN or a JWT: nothing stored to re-check
	}
	// Always the database, not the cache: a revocation committed by another process
	// may not have reached this one yet (one indexed lookup per socket operation).
	gen := a.revocationCount()
	t, err := a.Store.LookupTokenHash(ctx, p.hash)
	if dispute.CodeOf(err) == dispute.CodeNotFound {
		a.Revoked(p.TokenID)
		return nil, ErrRevoked
	}
	if err != nil {
		return nil, err
	}
	if c := a.cached(p.hash); c != nil {
		return c, nil
	}
	return a.principalOf(ctx, p.hash, t, gen)
}

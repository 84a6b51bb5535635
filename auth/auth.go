// Package auth turns a bearer credential into a principal (a user, a company API key or
// the platform) with its scopes, and derives the principal's role on a case. The role is
// never taken from the request.
//
// Credentials are the opaque tokens the server mints (stored hashed; cached for
// AUTH_CACHE_TTL) and, when a provider is configured, the JWTs of an OpenID Connect
// issuer (oidc.go). Failed authentications are throttled per client address
// (throttle.go, golang.org/x/time/rate) and logged as a rate-limited summary.
// Long-lived sessions (WebSockets, SSE streams) are watched (revoke.go): a revocation
// announced by any process, or a JWT's expiry, ends them.
//
// auth imports db (tokens, users) and dispute of this module.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
)

// Kind is what a principal is.
type Kind string

// The principal kinds.
const (
	KindUser     Kind = "user"
	KindCompany  Kind = "company"
	KindPlatform Kind = "platform"
)

// The scopes a token can carry.
const (
	ScopeRead   = "read"
	ScopeManage = "manage"
)

// Principal is who a request acts as.
type Principal struct {
	Kind    Kind
	TokenID string // "" for the PLATFORM_TOKEN from the environment
	// UserID is the user of a user token.
	UserID string
	// CompanyID is the company of a company API key.
	CompanyID string
	// TeamCompanyIDs are, for a user token, the companies the user acts for as merchant.
	TeamCompanyIDs []string
	Scopes         []string
	// Expires is when the credential stops working (a JWT's exp); zero for tokens,
	// which work until revoked.
	Expires time.Time
	// ExternalID is the identity provider's subject of a JWT principal; "" otherwise.
	ExternalID string

	hash string // the stored hash of an opaque token, for re-checks (Recheck)
	// gen is the authenticator's revocation count before the token was looked up:
	// Watch re-checks a token when a revocation was announced since (the lookup may
	// have found it live just before its revocation, whose notice then found no
	// session to end).
	gen uint64
}

// Key is the principal's stable identity across all its tokens: "user:<id>",
// "company:<id>" or "platform" (every platform token and PLATFORM_TOKEN are one
// principal, the staff). Idempotency records, subscription counts and rate limits are
// bound to it, so a user's second device is the same principal as the first.
func (p *Principal) Key() string {
	switch p.Kind {
	case KindUser:
		return "user:" + p.UserID
	case KindCompany:
		return "company:" + p.CompanyID
	}
	return "platform"
}

// CanRead reports whether the principal may read; manage implies read.
func (p *Principal) CanRead() bool {
	return slices.Contains(p.Scopes, ScopeRead) || p.CanManage()
}

// CanManage reports whether the principal may call mutations.
func (p *Principal) CanManage() bool { return slices.Contains(p.Scopes, ScopeManage) }

// MerchantOf returns the companies the principal acts for as merchant.
func (p *Principal) MerchantOf() []string {
	switch p.Kind {
	case KindCompany:
		return []string{p.CompanyID}
	case KindUser:
		return p.TeamCompanyIDs
	}
	return nil
}

// Scope is what the principal may see in queries.
func (p *Principal) Scope() db.Scope {
	switch p.Kind {
	case KindPlatform:
		return db.Scope{All: true}
	case KindCompany:
		return db.Scope{CompanyIDs: []string{p.CompanyID}}
	default:
		return db.Scope{UserID: p.UserID, CompanyIDs: p.TeamCompanyIDs}
	}
}

// RoleOn returns the principal's role on a case: platform, the customer who opened it,
// or the merchant of its company; "" when the case is none of its business. A user who
// is both the customer and a team member of the company acts as the customer.
func (p *Principal) RoleOn(c dispute.Case) dispute.Actor {
	switch {
	case p.Kind == KindPlatform:
		return dispute.ActorPlatform
	case p.Kind == KindUser && c.UserID == p.UserID:
		return dispute.ActorCustomer
	case slices.Contains(p.MerchantOf(), c.CompanyID):
		return dispute.ActorMerchant
	}
	return ""
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the request's principal, or nil when unauthenticated.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// Store is what the authenticator reads; *db.DB implements it.
type Store interface {
	// LookupToken finds the live token with this clear text; NOT_FOUND otherwise.
	LookupToken(ctx context.Context, clear string) (db.Token, error)
	// LookupTokenHash finds the live token with this stored hash; NOT_FOUND otherwise.
	LookupTokenHash(ctx context.Context, hash string) (db.Token, error)
	// RevokedTokens returns which of the token IDs are revoked or gone.
	RevokedTokens(ctx context.Context, ids []string) ([]string, error)
	// UserByExternalID finds the user of an identity provider's subject; NOT_FOUND
	// otherwise.
	UserByExternalID(ctx context.Context, externalID string) (db.User, error)
	// CompaniesByID returns the companies that exist among ids.
	CompaniesByID(ctx context.Context, ids []string) (map[string]db.Company, error)
	// TeamCompanies lists the companies a user acts for as merchant.
	TeamCompanies(ctx context.Context, userID string) ([]string, error)
}

// ErrBadToken is returned for a token that is malformed, unknown or revoked.
var ErrBadToken = &dispute.Error{Code: dispute.CodeUnauthenticated, Message: "invalid or revoked token"}

// Authenticator resolves tokens against the database and the optional operator token.
// It remembers resolved principals for CacheTTL (default 5 s) so a busy client costs no
// lookup per request; a token created or a team change shows within that time, a
// revocation at once (Revoked). Unknown tokens are remembered as misses for the same
// time, and failures are throttled per client address (Throttle) and logged as a
// rate-limited summary (Logger).
type Authenticator struct {
	Store         Store
	PlatformToken string // accepted as a platform token with both scopes when non-empty
	CacheTTL      time.Duration
	// Throttle limits failed authentications per client address; nil disables it.
	Throttle *Throttle
	// Logger receives the rate-limited summary of failures; nil logs nothing.
	Logger *slog.Logger
	// OIDC, when set, accepts the identity provider's JWTs besides opaque tokens.
	OIDC *OIDC

	mu     sync.Mutex
	cache  map[string]cached
	misses map[string]time.Time // hash -> until when an unknown token is refused without a lookup
	// revocations counts revocations announced (Revoked, ResyncRevocations): a lookup
	// that began before one does not cache what it found, which may be the revoked
	// token as it was before its revocation committed.
	revocations uint64
	flog        failureLog
	once        sync.Once
	sess        sessions
}

type cached struct {
	p       *Principal
	expires time.Time
}

// maxTokenLength bounds a presented credential: opaque tokens are 46 characters, a
// provider's JWT a few hundred to a few thousand.
const maxTokenLength = 8192

// maxCached bounds the principal cache, and separately the cache of misses.
const maxCached = 10000

type clientAddrKey struct{}

// WithClientAddr records the client's address (for throttling and rate limits).
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// ClientAddr returns the client address recorded in ctx, or "".
func ClientAddr(ctx context.Context) string {
	s, _ := ctx.Value(clientAddrKey{}).(string)
	return s
}

// Authenticate returns the principal of a clear-text token presented from the client
// address recorded in ctx (WithClientAddr).
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*Principal, error) {
	a.once.Do(func() { a.flog = failureLog{logger: a.Logger, every: failureLogPeriod} })
	addr := ClientAddr(ctx)
	if token == "" || len(token) > maxTokenLength {
		return nil, a.failed(ctx, addr)
	}
	if a.PlatformToken != "" && SecretEqual(token, a.PlatformToken) {
		return &Principal{Kind: KindPlatform, Scopes: []string{ScopeRead, ScopeManage}}, nil
	}
	hash := db.HashToken(token)
	if p := a.cached(hash); p != nil {
		return p, nil
	}
	// The attempt counts against the address's failure budget while it runs (checked
	// first and counted after, concurrent bad attempts all passed the check).
	end, wait, err := a.Throttle.Begin(ctx, addr)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		a.flog.record(ctx, addr, "throttled", nil)
		return nil, &ThrottledError{RetryAfter: wait}
	}
	failed := false
	defer func() { end(failed) }()
	if a.missed(hash) {
		failed = true
		return nil, a.refused(ctx, addr)
	}
	gen := a.revocationCount()
	if a.OIDC != nil && LooksLikeJWT(token) {
		p, err := a.fromJWT(ctx, token)
		switch {
		case IsAuthError(err):
			a.rememberMiss(hash)
			failed = true
			a.flog.record(ctx, addr, "bad_token", err)
			return nil, err
		case err != nil:
			a.flog.record(ctx, addr, "error", err)
			return nil, err
		}
		a.remember(hash, p, gen)
		return p, nil
	}
	t, err := a.Store.LookupToken(ctx, token)
	if dispute.CodeOf(err) == dispute.CodeNotFound {
		a.rememberMiss(hash)
		failed = true
		return nil, a.refused(ctx, addr)
	}
	if err != nil {
		a.flog.record(ctx, addr, "error", err)
		return nil, err
	}
	p, err := a.principalOf(ctx, hash, t, gen)
	if err != nil {
		a.flog.record(ctx, addr, "error", err)
		return nil, err
	}
	return p, nil
}

// principalOf makes the principal of a stored token and caches it, unless a
// revocation was announced since gen (revocationCount before the lookup).
func (a *Authenticator) principalOf(ctx context.Context, hash string, t db.Token, gen uint64) (*Principal, error) {
	p := &Principal{Kind: Kind(t.Kind), TokenID: t.ID, UserID: t.UserID, CompanyID: t.CompanyID, Scopes: t.Scopes, hash: hash,
		gen: gen}
	if p.Kind == KindUser {
		var err error
		if p.TeamCompanyIDs, err = a.Store.TeamCompanies(ctx, p.UserID); err != nil {
			return nil, err
		}
	}
	a.remember(hash, p, gen)
	return p, nil
}

// failed counts a failed authentication from addr (one that took nothing from the
// budget first) and returns ErrBadToken.
func (a *Authenticator) failed(ctx context.Context, addr string) error {
	a.Throttle.Fail(addr)
	return a.refused(ctx, addr)
}

// refused logs a failed authentication and returns ErrBadToken.
func (a *Authenticator) refused(ctx context.Context, addr string) error {
	a.flog.record(ctx, addr, "bad_token", nil)
	return ErrBadToken
}

// revocationCount returns how many revocations were announced so far.
func (a *Authenticator) revocationCount() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.revocations
}

func (a *Authenticator) missed(hash string) bool {
	if a.ttl() < 0 {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	until, ok := a.misses[hash]
	return ok && time.Now().Before(until)
}

func (a *Authenticator) rememberMiss(hash string) {
	if a.ttl() < 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.misses == nil || len(a.misses) >= maxCached {
		a.misses = map[string]time.Time{}
	}
	a.misses[hash] = time.Now().Add(a.ttl())
}

func (a *Authenticator) ttl() time.Duration {
	if a.CacheTTL == 0 {
		return 5 * time.Second
	}
	return a.CacheTTL
}

func (a *Authenticator) cached(hash string) *Principal {
	if a.ttl() < 0 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.cache[hash]
	if !ok || time.Now().After(c.expires) {
		return nil
	}
	return c.p
}

func (a *Authenticator) remember(hash string, p *Principal, gen uint64) {
	if a.ttl() < 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.revocations != gen {
		return // found before a revocation was announced: it may be the revoked token
	}
	if a.cache == nil || len(a.cache) >= maxCached {
		a.cache = map[string]cached{}
	}
	exp := time.Now().Add(a.ttl())
	if !p.Expires.IsZero() && p.Expires.Before(exp) {
		exp = p.Expires // a JWT is not served from the cache past its exp
	}
	a.cache[hash] = cached{p: p, expires: exp}
}

// SecretEqual compares a presented secret with the expected one in constant time,
// length included: both are hashed first, so neither their contents nor their lengths
// show in the time taken (subtle.ConstantTimeCompare alone returns at once on a
// length mismatch).
func SecretEqual(presented, expected string) bool {
	a, b := sha256.Sum256([]byte(presented)), sha256.Sum256([]byte(expected))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// BearerToken extracts the token of an "Authorization: Bearer <token>" header value;
// ok is false when the header is present but not a bearer token.
func BearerToken(header string) (token string, present, ok bool) {
	if header == "" {
		return "", false, true
	}
	scheme, rest, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", true, false
	}
	rest = strings.TrimSpace(rest)
	return rest, true, rest != ""
}

// FromRequest authenticates the request's Authorization header. It returns a nil
// principal and nil error when there is no header.
func (a *Authenticator) FromRequest(r *http.Request) (*Principal, error) {
	return a.FromHeader(r.Context(), r.Header.Get("Authorization"))
}

// FromHeader authenticates an Authorization header value (also used for the
// connection_init payload of WebSockets).
func (a *Authenticator) FromHeader(ctx context.Context, header string) (*Principal, error) {
	tok, present, ok := BearerToken(header)
	if !present {
		return nil, nil
	}
	if !ok {
		return nil, ErrBadToken
	}
	return a.Authenticate(ctx, tok)
}

// IsAuthError reports whether err means the credentials were rejected.
func IsAuthError(err error) bool { return errors.Is(err, dispute.ErrUnauthenticated) }

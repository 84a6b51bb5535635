package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"resolutioncenter/dispute"
)

// Sign-in tokens from an OpenID Connect identity provider: a JWT the provider signed is
// verified offline against the provider's JWKS with github.com/lestrrat-go/jwx/v3,
// chosen over github.com/coreos/go-oidc because its JWKS cache (jwk.Cache) refreshes
// on a schedule bounded by a minimum and a maximum interval, while go-oidc's key set
// fetches again for every token that names an unknown key (a token with a random kid
// per request would make the server fetch the JWKS per request) and has a fixed
// clock skew. jwx also checks issuer, audience, expiry and not-before with a given skew.
//
// What the server checks: the signature, with a key of the provider's JWKS and only
// RS256, ES256 or EdDSA (never "none", never HMAC: a public key used as an HS256
// secret is refused); iss equal to OIDC_ISSUER; aud containing OIDC_AUDIENCE; exp
// in the future and nbf/iat not in the future, each with OIDC_CLOCK_SKEW. A token
// naming a key the cache does not have makes the cache refresh, at most once per
// OIDC_JWKS_MIN_REFRESH (key rotation); the keys are fetched again at least every
// OIDC_JWKS_MAX_REFRESH.

// OIDCConfig configures the identity provider.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL, exactly as in its tokens' iss.
	Issuer string
	// Audience must be in the tokens' aud (the API's client ID at the provider).
	Audience string
	// JWKSURL is where the provider's keys are; "" discovers it from
	// Issuer/.well-known/openid-configuration at start.
	JWKSURL string
	// CompaniesClaim names the claim listing the company IDs the user acts for as
	// merchant (an array, or a space- or comma-separated string).
	CompaniesClaim string
	// StaffClaim names the claim that makes a token platform staff: true, or a string
	// or array containing StaffValue.
	StaffClaim string
	StaffValue string
	// ScopesClaim names the claim with the scopes (a space-separated string, as OAuth's
	// "scope", or an array); only scopes with ScopePrefix count, without it:
	// "rc:manage" is manage, a bare "manage" nothing (unless the prefix is empty).
	ScopesClaim string
	ScopePrefix string
	// ClockSkew is the leeway of exp, nbf and iat.
	ClockSkew time.Duration
	// MinRefresh and MaxRefresh bound how often the JWKS is fetched.
	MinRefresh, MaxRefresh time.Duration
	// HTTPClient fetches discovery and the JWKS (default: 10 s timeout).
	HTTPClient *http.Client
}

// Claims is what the server takes from a verified JWT.
type Claims struct {
	Subject   string
	Expires   time.Time
	Companies []string
	Staff     bool
	Scopes    []string
}

// OIDC verifies the provider's JWTs. Make one with NewOIDC; Close it.
type OIDC struct {
	cfg    OIDCConfig
	jwks   string
	cache  *jwk.Cache
	set    jwk.Set
	cancel context.CancelFunc

	mu          sync.Mutex
	lastRefresh time.Time
}

// allowedAlgs are the signature algorithms accepted.
var allowedAlgs = []jwa.SignatureAlgorithm{jwa.RS256(), jwa.ES256(), jwa.EdDSA()}

// ErrBadJWT refuses a JWT that does not verify; the detail is logged, never sent.
var ErrBadJWT = &dispute.Error{Code: dispute.CodeUnauthenticated, Message: "invalid or expired sign-in token"}

// NewOIDC discovers the JWKS (unless configured) and starts its cache, which lives
// until Close.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("oidc: issuer and audience are required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.MinRefresh <= 0 {
		cfg.MinRefresh = time.Minute
	}
	if cfg.MaxRefresh < cfg.MinRefresh {
		cfg.MaxRefresh = max(cfg.MinRefresh, time.Hour)
	}
	o := &OIDC{cfg: cfg, jwks: cfg.JWKSURL}
	if o.jwks == "" {
		u, err := discover(ctx, cfg.HTTPClient, cfg.Issuer)
		if err != nil {
			return nil, err
		}
		o.jwks = u
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	o.cancel = cancel
	cache, err := jwk.NewCache(cctx, httprc.NewClient())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("oidc: %w", err)
	}
	o.cache = cache
	// Not waiting for the first fetch: the server starts while the provider is down, and
	// its tokens are refused until the keys arrive.
	if err := cache.Register(cctx, o.jwks, jwk.WithMinInterval(cfg.MinRefresh), jwk.WithMaxInterval(cfg.MaxRefresh),
		jwk.WithHTTPClient(cfg.HTTPClient), jwk.WithWaitReady(false)); err != nil {
		cancel()
		return nil, fmt.Errorf("oidc: jwks %s: %w", o.jwks, err)
	}
	if o.set, err = cache.CachedSet(o.jwks); err != nil {
		cancel()
		return nil, fmt.Errorf("oidc: %w", err)
	}
	// Give the first fetch a moment, so that the first tokens do not spend the refresh
	// that an unknown key may trigger.
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	cache.Ready(rctx, o.jwks)
	return o, nil
}

// JWKSURL is the key set URL in use.
func (o *OIDC) JWKSURL() string { return o.jwks }

// Close stops the JWKS cache.
func (o *OIDC) Close() {
	if o == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = o.cache.Shutdown(ctx)
	o.cancel()
}

func discover(ctx context.Context, c *http.Client, issuer string) (string, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("oidc: discovery: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("oidc: discovery %s: %w (set OIDC_JWKS_URL to start without it)", u, err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("oidc: discovery %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return "", fmt.Errorf("oidc: discovery %s: %w", u, err)
	}
	if doc.Issuer != issuer || doc.JWKSURI == "" {
		return "", fmt.Errorf("oidc: discovery %s: issuer %q (want %q), jwks_uri %q", u, doc.Issuer, issuer, doc.JWKSURI)
	}
	return doc.JWKSURI, nil
}

// LooksLikeJWT tells a compact JWS (three base64url parts) from an opaque token.
func LooksLikeJWT(tok string) bool {
	return strings.Count(tok, ".") == 2 && strings.HasPrefix(tok, "eyJ")
}

// Verify checks a JWT and returns its claims; any failure is ErrBadJWT wrapping why.
func (o *OIDC) Verify(ctx context.Context, raw string) (Claims, error) {
	msg, err := jws.ParseString(raw)
	if err != nil || len(msg.Signatures()) != 1 {
		return Claims{}, fmt.Errorf("%w: not a signed JWT", ErrBadJWT)
	}
	alg, ok := msg.Signatures()[0].ProtectedHeaders().Algorithm()
	if !ok || !slices.Contains(allowedAlgs, alg) {
		return Claims{}, fmt.Errorf("%w: algorithm %q not accepted", ErrBadJWT, alg.String())
	}
	tok, err := o.parse(raw)
	if err != nil && errors.Is(err, errNoKey) && o.mayRefresh() {
		// A key we do not have: the provider may have rotated its keys.
		if _, rerr := o.cache.Refresh(ctx, o.jwks); rerr == nil {
			tok, err = o.parse(raw)
		}
	}
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrBadJWT, err)
	}
	return o.claims(tok)
}

var errNoKey = errors.New("no key")

func (o *OIDC) parse(raw string) (jwt.Token, error) {
	tok, err := jwt.ParseString(raw,
		jwt.WithKeySet(o.set, jws.WithInferAlgorithmFromKey(true), jws.WithRequireKid(false)),
		jwt.WithValidate(true), jwt.WithIssuer(o.cfg.Issuer), jwt.WithAudience(o.cfg.Audience),
		jwt.WithAcceptableSkew(o.cfg.ClockSkew), jwt.WithRequiredClaim("exp"), jwt.WithRequiredClaim("sub"))
	if err != nil && strings.Contains(err.Error(), "key") && (strings.Contains(err.Error(), "not found") ||
		strings.Contains(err.Error(), "no matching") || strings.Contains(err.Error(), "could not")) {
		return nil, fmt.Errorf("%w: %v", errNoKey, err)
	}
	return tok, err
}

// mayRefresh allows one refresh for an unknown key per MinRefresh.
func (o *OIDC) mayRefresh() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if time.Since(o.lastRefresh) < o.cfg.MinRefresh {
		return false
	}
	o.lastRefresh = time.Now()
	return true
}

func (o *OIDC) claims(tok jwt.Token) (Claims, error) {
	var c Claims
	c.Subject, _ = tok.Subject()
	c.Expires, _ = tok.Expiration()
	if c.Subject == "" || c.Expires.IsZero() {
		return Claims{}, fmt.Errorf("%w: sub and exp are required", ErrBadJWT)
	}
	c.Companies = stringsClaim(tok, o.cfg.CompaniesClaim)
	if o.cfg.StaffClaim != "" {
		var v any
		if tok.Get(o.cfg.StaffClaim, &v) == nil {
			switch x := v.(type) {
			case bool:
				c.Staff = x
			default:
				c.Staff = o.cfg.StaffValue != "" && slices.Contains(stringsClaim(tok, o.cfg.StaffClaim), o.cfg.StaffValue)
			}
		}
	}
	for _, s := range stringsClaim(tok, o.cfg.ScopesClaim) {
		// Only this API's scopes count: with a prefix set, a bare "manage" (some other
		// resource's scope at the same provider) grants nothing here.
		s, ok := strings.CutPrefix(s, o.cfg.ScopePrefix)
		if !ok {
			continue
		}
		if (s == ScopeRead || s == ScopeManage) && !slices.Contains(c.Scopes, s) {
			c.Scopes = append(c.Scopes, s)
		}
	}
	return c, nil
}

// stringsClaim reads a claim that is an array of strings or a space- or
// comma-separated string.
func stringsClaim(tok jwt.Token, name string) []string {
	if name == "" {
		return nil
	}
	var v any
	if tok.Get(name, &v) != nil {
		return nil
	}
	var out []string
	switch x := v.(type) {
	case string:
		out = strings.FieldsFunc(x, func(r rune) bool { return r == ' ' || r == ',' })
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
	case []string:
		out = x
	}
	return out
}

// ErrUnknownIdentity refuses a valid JWT whose subject is no user here.
var ErrUnknownIdentity = &dispute.Error{Code: dispute.CodeUnauthenticated,
	Message: "no user has this sign-in identity (the platform creates it with createUser(externalId))"}

// maxClaimedCompanies bounds the companies a JWT may name.
const maxClaimedCompanies = 100

// fromJWT maps a verified JWT to a principal. Staff (the staff claim) are the platform.
// Anyone else is the user whose external ID is the subject (unknown: refused); they act
// as merchant for the companies of their team memberships here and for those the
// companies claim names, as long as the company exists: the provider is trusted to
// grant membership, never to make up a company. Scopes come from the scopes claim;
// without it, read only.
func (a *Authenticator) fromJWT(ctx context.Context, raw string) (*Principal, error) {
	c, err := a.OIDC.Verify(ctx, raw)
	if err != nil {
		if a.Logger != nil {
			a.Logger.DebugContext(ctx, "sign-in token refused", "err", err)
		}
		return nil, ErrBadJWT
	}
	p := &Principal{Expires: c.Expires, ExternalID: c.Subject, Scopes: c.Scopes}
	if len(p.Scopes) == 0 {
		p.Scopes = []string{ScopeRead}
	}
	if c.Staff {
		p.Kind = KindPlatform
		return p, nil
	}
	u, err := a.Store.UserByExternalID(ctx, c.Subject)
	if dispute.CodeOf(err) == dispute.CodeNotFound {
		return nil, ErrUnknownIdentity
	}
	if err != nil {
		return nil, err
	}
	p.Kind, p.UserID = KindUser, u.ID
	team, err := a.Store.TeamCompanies(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(c.Companies) > maxClaimedCompanies {
		c.Companies = c.Companies[:maxClaimedCompanies]
	}
	exist, err := a.Store.CompaniesByID(ctx, c.Companies)
	if err != nil {
		return nil, err
	}
	for id := range exist {
		if !slices.Contains(team, id) {
			team = append(team, id)
		}
	}
	slices.Sort(team)
	p.TeamCompanyIDs = team
	return p, nil
}

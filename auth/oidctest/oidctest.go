// Package oidctest is a local OpenID Connect issuer for tests and examples: keys
// generated at start (RS256, ES256, EdDSA), discovery and the JWKS served on a
// loopback port, and tokens signed with the standard library alone, independently of
// the JWT library the server verifies with. It also makes the tokens a server must
// refuse: "alg": "none", HS256 keyed with the public key, unknown keys.
//
// For browser examples it has a dev-only token endpoint (see AddIdentity): a page on a
// loopback origin lists the demo identities and gets a signed JWT for one, which a real
// provider would hand out after its login page. It is a test package: never put it in
// front of anything but loopback.
//
// oidctest imports nothing of this module; only tests (and example tooling) use it.
package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/cors"
)

// Key is a signing key with its JWKS entry.
type Key struct {
	ID  string
	Alg string // RS256, ES256 or EdDSA
	key crypto.Signer
}

// NewKey generates a key for alg.
func NewKey(alg string) *Key {
	var k crypto.Signer
	var err error
	switch alg {
	case "RS256":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		panic("oidctest: unsupported alg " + alg)
	}
	if err != nil {
		panic(err)
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	return &Key{ID: alg + "-" + b64(id), Alg: alg, key: k}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// JWK is the key's public JWKS entry.
func (k *Key) JWK() map[string]any {
	m := map[string]any{"kid": k.ID, "alg": k.Alg, "use": "sig"}
	switch pub := k.key.Public().(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		b, _ := pub.Bytes() // 0x04 || X || Y
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", b64(b[1:33]), b64(b[33:65])
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(pub)
	}
	return m
}

// PublicDER is the public key in PKIX DER, as an attacker would use it as an HMAC secret.
func (k *Key) PublicDER() []byte {
	b, _ := x509.MarshalPKIXPublicKey(k.key.Public())
	return b
}

func (k *Key) sign(input []byte) []byte {
	switch s := k.key.(type) {
	case *rsa.PrivateKey:
		h := sha256.Sum256(input)
		sig, _ := rsa.SignPKCS1v15(rand.Reader, s, crypto.SHA256, h[:])
		return sig
	case *ecdsa.PrivateKey:
		h := sha256.Sum256(input)
		r, ss, _ := ecdsa.Sign(rand.Reader, s, h[:])
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		ss.FillBytes(sig[32:])
		return sig
	case ed25519.PrivateKey:
		return ed25519.Sign(s, input)
	}
	panic("oidctest: unknown key type")
}

// Issuer serves discovery and a JWKS on loopback and signs tokens.
type Issuer struct {
	// URL is the issuer (iss); Audience the default aud.
	URL, Audience string
	// DevTokenTTL is how long the dev token endpoint's tokens live (default 1 h).
	DevTokenTTL time.Duration

	srv        *http.Server
	mu         sync.Mutex
	keys       []*Key // published in the JWKS
	signer     *Key   // signs by default
	identities []Identity
	jwksFetch  atomic.Int64
}

// New starts an issuer on a free loopback port with one RS256 key (also ES256 and EdDSA
// keys, published), until the test ends.
func New(tb testing.TB, audience string) *Issuer {
	tb.Helper()
	iss, err := Listen("127.0.0.1:0", audience)
	if err != nil {
		tb.Fatalf("oidctest: %v", err)
	}
	tb.Cleanup(iss.Close)
	return iss
}

// Listen starts an issuer on addr, which must be a loopback address ("127.0.0.1:0"
// picks a free port), until Close: for example tooling outside tests.
func Listen(addr, audience string) (*Issuer, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("listen address %q: the test issuer serves loopback only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	// The URL is set before the server serves: its handlers read it, from connections the
	// race detector cannot relate to this goroutine (another process's requests).
	iss := &Issuer{Audience: audience, DevTokenTTL: time.Hour, URL: "http://" + ln.Addr().String()}
	rs := NewKey("RS256")
	iss.keys = []*Key{rs, NewKey("ES256"), NewKey("EdDSA")}
	iss.signer = rs
	iss.srv = &http.Server{Handler: iss.handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = iss.srv.Serve(ln) }()
	return iss, nil
}

// Close stops serving.
func (iss *Issuer) Close() { _ = iss.srv.Close() }

func (iss *Issuer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"issuer": iss.URL, "jwks_uri": iss.URL + "/jwks.json",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA"}})
	})
	mux.HandleFunc("GET /jwks.json", func(w http.ResponseWriter, r *http.Request) {
		iss.jwksFetch.Add(1)
		iss.mu.Lock()
		keys := make([]map[string]any, len(iss.keys))
		for i, k := range iss.keys {
			keys[i] = k.JWK()
		}
		iss.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
	})
	// The dev endpoints are called by pages on other loopback origins (a Vite dev
	// server, the browser test's page): CORS for loopback origins only.
	dev := cors.New(cors.Options{
		AllowOriginFunc: isLoopbackOrigin,
		AllowedMethods:  []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:  []string{"Content-Type"},
	})
	mux.Handle("GET /dev/identities", dev.Handler(http.HandlerFunc(iss.serveIdentities)))
	mux.Handle("/dev/token", dev.Handler(http.HandlerFunc(iss.serveDevToken)))
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// isLoopbackOrigin reports whether a browser origin is on loopback: http(s) on
// localhost, 127.0.0.0/8 or [::1].
func isLoopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Identity is a sign-in the dev token endpoint offers: a subject, a name to show, and
// the claims its tokens carry besides iss, aud, sub, iat and exp.
type Identity struct {
	Subject     string `json:"sub"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Claims      Claims `json:"-"`
}

// AddIdentity offers id on the dev token endpoint: GET /dev/identities lists the
// identities ({"identities": [{"sub", "name", "description"}]}) and POST /dev/token
// with {"sub": "..."} (JSON or a form) answers {"access_token": JWT, "token_type":
// "Bearer", "expires_in": seconds}, signed with the current key. This stands in for a
// provider's login page: anyone who can reach the issuer gets the token, so it serves
// loopback only. Without a "scope" claim the tokens get "openid rc:read rc:manage".
func (iss *Issuer) AddIdentity(id Identity) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.identities = slices.DeleteFunc(iss.identities, func(o Identity) bool { return o.Subject == id.Subject })
	iss.identities = append(iss.identities, id)
}

func (iss *Issuer) serveIdentities(w http.ResponseWriter, r *http.Request) {
	iss.mu.Lock()
	ids := slices.Clone(iss.identities)
	iss.mu.Unlock()
	if ids == nil {
		ids = []Identity{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"identities": ids})
}

func (iss *Issuer) serveDevToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "POST {\"sub\": \"...\"}"})
		return
	}
	sub, err := devTokenSubject(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	iss.mu.Lock()
	i := slices.IndexFunc(iss.identities, func(id Identity) bool { return id.Subject == sub })
	var id Identity
	if i >= 0 {
		id = iss.identities[i]
	}
	ttl := iss.DevTokenTTL
	iss.mu.Unlock()
	if i < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": fmt.Sprintf("no identity %q here; GET /dev/identities lists them", sub)})
		return
	}
	if ttl <= 0 {
		ttl = time.Hour
	}
	extra := Claims{"scope": "openid rc:read rc:manage", "name": id.Name}
	for k, v := range id.Claims {
		extra[k] = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": iss.Token(sub, ttl, extra), "token_type": "Bearer",
		"expires_in": int64(ttl / time.Second)})
}

// devTokenSubject reads sub from a JSON body or a form.
func devTokenSubject(r *http.Request) (string, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	var sub string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body struct {
			Sub string `json:"sub"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return "", fmt.Errorf("the body is not JSON {\"sub\": \"...\"}: %v", err)
		}
		sub = body.Sub
	} else {
		if err := r.ParseForm(); err != nil {
			return "", err
		}
		sub = r.PostForm.Get("sub")
	}
	if sub == "" {
		return "", errors.New("sub is required")
	}
	return sub, nil
}

// JWKSFetches counts the JWKS requests served.
func (iss *Issuer) JWKSFetches() int64 { return iss.jwksFetch.Load() }

// Key returns the published key for alg.
func (iss *Issuer) Key(alg string) *Key {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	for _, k := range iss.keys {
		if k.Alg == alg {
			return k
		}
	}
	return nil
}

// Rotate publishes a new RS256 key, signs with it from now on, and withdraws the old
// signing key; it returns the new key.
func (iss *Issuer) Rotate() *Key {
	k := NewKey("RS256")
	iss.mu.Lock()
	defer iss.mu.Unlock()
	var keep []*Key
	for _, old := range iss.keys {
		if old != iss.signer {
			keep = append(keep, old)
		}
	}
	iss.keys = append(keep, k)
	iss.signer = k
	return k
}

// Claims are a token's claims; Token fills iss, aud, iat and exp when absent.
type Claims map[string]any

// Token signs claims for sub with the current signing key, valid for ttl.
func (iss *Issuer) Token(sub string, ttl time.Duration, extra Claims) string {
	iss.mu.Lock()
	k := iss.signer
	iss.mu.Unlock()
	return iss.SignWith(k, iss.claims(sub, ttl, extra))
}

func (iss *Issuer) claims(sub string, ttl time.Duration, extra Claims) Claims {
	now := time.Now()
	c := Claims{"iss": iss.URL, "aud": iss.Audience, "sub": sub, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// Claims returns the claims Token would sign, for tokens made by hand.
func (iss *Issuer) Claims(sub string, ttl time.Duration, extra Claims) Claims {
	return iss.claims(sub, ttl, extra)
}

// SignWith signs claims with k (which need not be published).
func (iss *Issuer) SignWith(k *Key, c Claims) string {
	input := encode(map[string]any{"alg": k.Alg, "typ": "JWT", "kid": k.ID}, c)
	return input + "." + b64(k.sign([]byte(input)))
}

// Unsigned is the token with "alg": "none" and an empty signature.
func (iss *Issuer) Unsigned(c Claims) string {
	return encode(map[string]any{"alg": "none", "typ": "JWT"}, c) + "."
}

// HS256WithPublicKey is the algorithm-confusion attack: HS256 keyed with the RSA
// key's public key (DER), with the RSA key's kid.
func (iss *Issuer) HS256WithPublicKey(k *Key, c Claims) string {
	input := encode(map[string]any{"alg": "HS256", "typ": "JWT", "kid": k.ID}, c)
	m := hmac.New(sha256.New, k.PublicDER())
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil))
}

func encode(header map[string]any, c Claims) string {
	h, err := json.Marshal(header)
	if err != nil {
		panic(err)
	}
	p, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("oidctest: claims: %v", err))
	}
	return b64(h) + "." + b64(p)
}

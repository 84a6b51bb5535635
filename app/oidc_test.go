package app_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/app/apptest"
	"resolutioncenter/auth/oidctest"
)

// oidcWorld is a server that trusts a local issuer, with a user known by its subject, a
// company, and the issuer.
type oidcWorld struct {
	s                 *apptest.Server
	iss               *oidctest.Issuer
	userID, companyID string
}

const oidcSubject = "idp|maya-0001"

func newOIDCWorld(t *testing.T, env map[string]string) *oidcWorld {
	t.Helper()
	iss := oidctest.New(t, "rc-api")
	e := map[string]string{"OIDC_ISSUER": iss.URL, "OIDC_AUDIENCE": "rc-api", "AUTH_FAILURE_RATE": "0",
		"OIDC_JWKS_MIN_REFRESH": "1s"}
	for k, v := range env {
		e[k] = v
	}
	s := apptest.Start(t, apptest.Options{Env: e})
	w := &oidcWorld{s: s, iss: iss}
	var u struct {
		CreateUser struct {
			User       struct{ ID string }
			UserErrors []struct{ Code, Field string }
		} `json:"createUser"`
	}
	s.MustData(t, apptest.PlatformToken, `mutation($x: String) { createUser(input: {username: "maya", email: "maya@example.com", externalId: $x}) { user { id } userErrors { code field } } }`,
		map[string]any{"x": oidcSubject}, &u)
	w.userID = u.CreateUser.User.ID
	// The same external ID twice is refused.
	s.MustData(t, apptest.PlatformToken, `mutation($x: String) { createUser(input: {username: "maya2", email: "maya@example.com", externalId: $x}) { user { id } userErrors { code field } } }`,
		map[string]any{"x": oidcSubject}, &u)
	if len(u.CreateUser.UserErrors) != 1 || u.CreateUser.UserErrors[0].Code != "ALREADY_EXISTS" || u.CreateUser.UserErrors[0].Field != "externalId" {
		t.Errorf("a second user with the same externalId: %+v", u.CreateUser)
	}
	var c struct {
		CreateCompany struct{ Company struct{ ID string } } `json:"createCompany"`
	}
	s.MustData(t, apptest.PlatformToken, `mutation { createCompany(input: {title: "Lumen", route: "lumen"}) { company { id } } }`, nil, &c)
	w.companyID = c.CreateCompany.Company.ID
	return w
}

type viewerData struct {
	Viewer struct {
		Role      string
		Scopes    []string
		User      *struct{ ID string }
		Companies []struct{ ID string }
	}
}

const viewerQuery = `{ viewer { role scopes user { id } companies { id } } }`

// TestOIDCSignIn (issue 13, item 1): JWTs of the configured issuer sign users in,
// verified offline against its JWKS: RS256, ES256 and EdDSA; sub names the user (by
// the external ID given to createUser); the companies claim grants only companies
// that exist; the staff group makes platform staff; scopes come from the scope claim.
// Expired, wrong audience, wrong issuer, unknown key, "alg": "none", HS256 keyed with
// the public key, and an unknown subject are refused with UNAUTHENTICATED. A rotated
// key is picked up; a flood of unknown keys costs at most one JWKS fetch per
// OIDC_JWKS_MIN_REFRESH.
func TestOIDCSignIn(t *testing.T) {
	w := newOIDCWorld(t, nil)
	s, iss := w.s, w.iss
	claims := oidctest.Claims{"scope": "openid rc:read rc:manage", "rc_companies": []string{w.companyID, "biz_01kz000000000000000000000"}}

	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		tok := iss.SignWith(iss.Key(alg), iss.Claims(oidcSubject, time.Hour, claims))
		var v viewerData
		s.MustData(t, tok, viewerQuery, nil, &v)
		if v.Viewer.Role != "USER" || v.Viewer.User == nil || v.Viewer.User.ID != w.userID ||
			!slices.Equal(v.Viewer.Scopes, []string{"READ", "MANAGE"}) || len(v.Viewer.Companies) != 1 || v.Viewer.Companies[0].ID != w.companyID {
			t.Errorf("%s: viewer %+v, want the user with both scopes acting for the one existing company", alg, v.Viewer)
		}
	}
	// Without a scope claim: read only; scopes without this API's prefix (another
	// resource's "manage" at the same provider) grant nothing either. Staff group: the
	// platform.
	var v viewerData
	s.MustData(t, iss.Token(oidcSubject, time.Hour, nil), viewerQuery, nil, &v)
	if !slices.Equal(v.Viewer.Scopes, []string{"READ"}) {
		t.Errorf("no scope claim: scopes %v, want READ only", v.Viewer.Scopes)
	}
	for _, scope := range []string{"openid manage", "openid read manage", "other:manage"} {
		s.MustData(t, iss.Token(oidcSubject, time.Hour, oidctest.Claims{"scope": scope}), viewerQuery, nil, &v)
		if !slices.Equal(v.Viewer.Scopes, []string{"READ"}) {
			t.Errorf("scope %q: scopes %v, want READ only", scope, v.Viewer.Scopes)
		}
	}
	s.MustData(t, iss.Token("idp|staff-7", time.Hour, oidctest.Claims{"groups": []string{"rc-platform-staff"}, "scope": "rc:read"}), viewerQuery, nil, &v)
	if v.Viewer.Role != "PLATFORM" {
		t.Errorf("staff group: role %s, want PLATFORM", v.Viewer.Role)
	}

	stranger := oidctest.NewKey("RS256")
	rsa := iss.Key("RS256")
	refused := map[string]string{
		"expired":                    iss.Token(oidcSubject, -5*time.Minute, nil),
		"wrong audience":             iss.Token(oidcSubject, time.Hour, oidctest.Claims{"aud": "another-api"}),
		"wrong issuer":               iss.Token(oidcSubject, time.Hour, oidctest.Claims{"iss": "https://evil.example.net"}),
		"unknown key":                iss.SignWith(stranger, iss.Claims(oidcSubject, time.Hour, nil)),
		"alg none":                   iss.Unsigned(iss.Claims(oidcSubject, time.Hour, nil)),
		"HS256 public key":           iss.HS256WithPublicKey(rsa, iss.Claims(oidcSubject, time.Hour, nil)),
		"unknown user":               iss.Token("idp|nobody", time.Hour, nil),
		"no exp":                     iss.Token(oidcSubject, time.Hour, oidctest.Claims{"exp": nil}),
		"not yet valid (nbf)":        iss.Token(oidcSubject, time.Hour, oidctest.Claims{"nbf": time.Now().Add(10 * time.Minute).Unix()}),
		"signature tampered":         iss.Token(oidcSubject, time.Hour, nil) + "x",
		"claims swapped in":          swapPayload(iss.Token(oidcSubject, time.Hour, nil), iss.Token("idp|staff-7", time.Hour, oidctest.Claims{"groups": "rc-platform-staff"})),
		"audience list without ours": iss.Token(oidcSubject, time.Hour, oidctest.Claims{"aud": []string{"x", "y"}}),
	}
	for name, tok := range refused {
		r := s.Do(t, tok, viewerQuery, nil)
		if r.Status != http.StatusUnauthorized || r.FirstCode() != "UNAUTHENTICATED" {
			t.Errorf("%s: %d %s, want 401 UNAUTHENTICATED", name, r.Status, apptest.Trunc(r.Raw, 200))
		}
	}
	// The subject over WebSocket is refused at connection_init (4403).
	ws := apptest.DialWS(t, s.URL, nil)
	ws.Send(apptest.WSMessage{Type: "connection_init", Payload: []byte(`{"Authorization":"Bearer ` + refused["alg none"] + `"}`)})
	if _, err := ws.TryRead(5 * time.Second); websocket.CloseStatus(err) != 4403 {
		t.Errorf("a refused JWT at connection_init: %v, want close 4403", err)
	}

	// Key rotation: a token signed with the new key works once the JWKS is fetched again
	// (the "unknown key" token above spent the refresh allowed per OIDC_JWKS_MIN_REFRESH).
	time.Sleep(1100 * time.Millisecond)
	before := iss.JWKSFetches()
	iss.Rotate()
	s.MustData(t, iss.Token(oidcSubject, time.Hour, nil), viewerQuery, nil, &v)
	if v.Viewer.User == nil || v.Viewer.User.ID != w.userID {
		t.Errorf("after rotation: %+v", v.Viewer)
	}
	if r := s.Do(t, iss.SignWith(rsa, iss.Claims(oidcSubject, time.Hour, nil)), viewerQuery, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("a token of the withdrawn key: %d, want 401", r.Status)
	}
	// Unknown keys do not make the server fetch the JWKS per token.
	for range 30 {
		s.Do(t, iss.SignWith(oidctest.NewKey("ES256"), iss.Claims(oidcSubject, time.Hour, nil)), viewerQuery, nil)
	}
	if n := iss.JWKSFetches() - before; n > 3 {
		t.Errorf("%d JWKS fetches for a rotation and 30 unknown keys, want at most 3", n)
	}
	t.Logf("JWKS fetches: %d for a rotation and 30 tokens with unknown keys", iss.JWKSFetches()-before)
}

// swapPayload puts b's claims under a's header and signature.
func swapPayload(a, b string) string {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	return pa[0] + "." + pb[1] + "." + pa[2]
}

// TestOIDCSubscriptionEndsAtExpiry: a JWT authenticates a WebSocket in connection_init
// and an SSE stream in its header; when the JWT expires the socket closes with 4403
// and the stream ends with UNAUTHENTICATED; operations on the socket work until then.
func TestOIDCSubscriptionEndsAtExpiry(t *testing.T) {
	w := newOIDCWorld(t, map[string]string{"OIDC_CLOCK_SKEW": "0s"})
	exp := time.Now().Add(3 * time.Second).Truncate(time.Second)
	tok := w.iss.Token(oidcSubject, time.Until(exp), oidctest.Claims{"exp": exp.Unix()})
	ws := apptest.DialWS(t, w.s.URL, map[string]any{"Authorization": "Bearer " + tok})
	ws.Subscribe("upd", `subscription { resolutionUpdated { id } }`, nil)
	ws.Subscribe("v", viewerQuery, nil)
	if m := ws.Read(5 * time.Second); m.Type != "next" || !strings.Contains(string(m.Payload), w.userID) {
		t.Fatalf("a query on the JWT's socket: %+v", m)
	}
	sse := apptest.DialSSE(t, w.s.URL, tok, `subscription { resolutionUpdated { id } }`, nil)
	code, _ := waitCloseCollect(t, ws, 10*time.Second)
	late := time.Since(exp)
	t.Logf("the socket closed with %d, %v after the JWT's exp", code, late.Round(time.Millisecond))
	if code != 4403 || late < -100*time.Millisecond || late > 2*time.Second {
		t.Errorf("socket closed with %d %v after exp, want 4403 at exp", code, late)
	}
	ev, err := sse.TryRead(5 * time.Second)
	if err != nil || !strings.Contains(string(ev.Data), "UNAUTHENTICATED") {
		t.Errorf("SSE at the JWT's exp: %q %s %v, want an UNAUTHENTICATED error", ev.Event, ev.Data, err)
	}
	if r := w.s.Do(t, tok, viewerQuery, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("HTTP with the expired JWT: %d", r.Status)
	}
}

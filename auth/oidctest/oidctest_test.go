package oidctest_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"resolutioncenter/auth/oidctest"
)

func do(t *testing.T, method, u, contentType, body string, hdr map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

func payload(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The dev token endpoint: the identities are listed, a token is signed for one (JSON or
// form), with the issuer's iss and aud, the default scopes and the identity's claims;
// anything else is an OAuth-style error.
func TestDevTokenEndpoint(t *testing.T) {
	iss := oidctest.New(t, "rc-api")
	iss.DevTokenTTL = 10 * time.Minute
	_, m := do(t, "GET", iss.URL+"/dev/identities", "", "", nil)
	if ids, _ := m["identities"].([]any); ids == nil || len(ids) != 0 {
		t.Errorf("no identities yet: %v", m)
	}
	iss.AddIdentity(oidctest.Identity{Subject: "idp|maya", Name: "Maya"})
	iss.AddIdentity(oidctest.Identity{Subject: "idp|staff", Name: "Staff", Description: "platform",
		Claims: oidctest.Claims{"groups": []string{"rc-platform-staff"}, "scope": "rc:read"}})
	iss.AddIdentity(oidctest.Identity{Subject: "idp|maya", Name: "Maya Chen"}) // replaces
	_, m = do(t, "GET", iss.URL+"/dev/identities", "", "", nil)
	if b, _ := json.Marshal(m); string(b) != `{"identities":[{"description":"platform","name":"Staff","sub":"idp|staff"},{"name":"Maya Chen","sub":"idp|maya"}]}` {
		t.Errorf("identities: %s", b)
	}

	before := time.Now().Unix()
	resp, m := do(t, "POST", iss.URL+"/dev/token", "application/json", `{"sub": "idp|maya"}`, nil)
	if resp.StatusCode != 200 || m["token_type"] != "Bearer" || m["expires_in"] != float64(600) {
		t.Fatalf("token: %d %v", resp.StatusCode, m)
	}
	c := payload(t, m["access_token"].(string))
	if c["sub"] != "idp|maya" || c["iss"] != iss.URL || c["aud"] != "rc-api" || c["scope"] != "openid rc:read rc:manage" ||
		c["name"] != "Maya Chen" || c["exp"].(float64) < float64(before+600) || c["exp"].(float64) > float64(time.Now().Unix()+600) {
		t.Errorf("claims: %v", c)
	}
	_, m = do(t, "POST", iss.URL+"/dev/token", "application/x-www-form-urlencoded", url.Values{"sub": {"idp|staff"}}.Encode(), nil)
	c = payload(t, m["access_token"].(string))
	if g, _ := c["groups"].([]any); len(g) != 1 || g[0] != "rc-platform-staff" || c["scope"] != "rc:read" {
		t.Errorf("staff claims: %v", c)
	}

	for _, bad := range []struct {
		method, ctype, body string
		status              int
		code                string
	}{
		{"POST", "application/json", `{"sub": "idp|nobody"}`, 400, "invalid_grant"},
		{"POST", "application/json", `{"sub": ""}`, 400, "invalid_request"},
		{"POST", "application/json", `{`, 400, "invalid_request"},
		{"GET", "", "", 405, "invalid_request"},
	} {
		resp, m := do(t, bad.method, iss.URL+"/dev/token", bad.ctype, bad.body, nil)
		if resp.StatusCode != bad.status || m["error"] != bad.code || m["error_description"] == "" {
			t.Errorf("%s %s: %d %v, want %d %s", bad.method, bad.body, resp.StatusCode, m, bad.status, bad.code)
		}
	}
}

// Pages on loopback origins may call the dev endpoints; others get no CORS approval.
func TestDevEndpointsCORS(t *testing.T) {
	iss := oidctest.New(t, "rc-api")
	for origin, ok := range map[string]bool{
		"http://localhost:5173": true, "http://127.0.0.1:4000": true, "http://[::1]:8080": true,
		"https://app.example.com": false, "http://localhost.example.net": false, "null": false,
	} {
		resp, _ := do(t, "OPTIONS", iss.URL+"/dev/token", "", "", map[string]string{"Origin": origin,
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if ok != (got == origin) || (!ok && got != "") {
			t.Errorf("preflight from %s: Access-Control-Allow-Origin %q", origin, got)
		}
		resp, _ = do(t, "GET", iss.URL+"/dev/identities", "", "", map[string]string{"Origin": origin})
		if got := resp.Header.Get("Access-Control-Allow-Origin"); ok != (got == origin) {
			t.Errorf("GET from %s: Access-Control-Allow-Origin %q", origin, got)
		}
	}
}

// Listen serves loopback only.
func TestListenLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		if iss, err := oidctest.Listen(addr, "a"); err == nil {
			iss.Close()
			t.Errorf("Listen(%q) accepted", addr)
		}
	}
	iss, err := oidctest.Listen("127.0.0.1:0", "a")
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	resp, m := do(t, "GET", iss.URL+"/.well-known/openid-configuration", "", "", nil)
	if resp.StatusCode != 200 || m["issuer"] != iss.URL || m["jwks_uri"] != iss.URL+"/jwks.json" {
		t.Errorf("discovery: %d %v", resp.StatusCode, m)
	}
}

package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

const revokeMutation = `mutation($id: ID!) { revokeToken(input: {tokenId: $id}) { token { id revokedAt } userErrors { code field message } } }`

// tokenPair is two tokens of one user (two devices), with their IDs.
type tokenPair struct {
	userID             string
	phone, laptop      string
	phoneID, laptopID  string
	otherUser, otherID string
}

func mustTokenPair(t *testing.T, s *apptest.Server) tokenPair {
	t.Helper()
	var tp tokenPair
	var data struct {
		CreateUser struct{ User struct{ ID string } } `json:"createUser"`
	}
	for i, name := range []string{"revoker", "bystander"} {
		s.MustData(t, apptest.PlatformToken, `mutation($u: String!) { createUser(input: {username: $u, email: "x@example.com"}) { user { id } } }`,
			map[string]any{"u": name}, &data)
		if i == 0 {
			tp.userID = data.CreateUser.User.ID
		} else {
			tp.otherUser = data.CreateUser.User.ID
		}
	}
	mint := func(userID string) (string, string) {
		var d struct {
			CreateToken struct {
				Token   string `json:"token"`
				TokenID string `json:"tokenId"`
			} `json:"createToken"`
		}
		s.MustData(t, apptest.PlatformToken, `mutation($u: ID!) { createToken(input: {holder: {userId: $u}, scopes: [READ, MANAGE]}) { token tokenId } }`,
			map[string]any{"u": userID}, &d)
		return d.CreateToken.Token, d.CreateToken.TokenID
	}
	tp.phone, tp.phoneID = mint(tp.userID)
	tp.laptop, tp.laptopID = mint(tp.userID)
	_, tp.otherID = mint(tp.otherUser)
	return tp
}

// TestRevokedTokenEndsSessions (issue 11, item 4): revoking a token (by its owner, from
// another of their tokens) makes it stop working at once everywhere: HTTP answers 401,
// an open WebSocket authenticated by it closes with 4403 (and no operation sent on it
// after the revocation runs), an SSE stream ends with an UNAUTHENTICATED error; the
// owner's other token and its socket go on. Before: there was no revokeToken, and a
// token revoked in the database kept full access on an open WebSocket (queries,
// mutations and earlier subscriptions still worked 7 s after).
func TestRevokedTokenEndsSessions(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d, apptest.Options{Env: map[string]string{"AUTH_CACHE_TTL": "5s"}})
		tp := mustTokenPair(t, s)

		phoneWS := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + tp.phone})
		phoneWS.Subscribe("upd", `subscription { resolutionUpdated { id } }`, nil)
		laptopWS := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + tp.laptop})
		sse := apptest.DialSSE(t, s.URL, tp.phone, `subscription { resolutionUpdated { id } }`, nil)
		s.MustData(t, tp.phone, `{ viewer { role } }`, nil, nil) // cached now (AUTH_CACHE_TTL=5s)
		time.Sleep(100 * time.Millisecond)                       // the subscriptions are set up

		var out struct {
			RevokeToken struct {
				Token struct{ ID, RevokedAt string }
			} `json:"revokeToken"`
		}
		revokedAt := time.Now()
		s.MustData(t, tp.laptop, revokeMutation, map[string]any{"id": tp.phoneID}, &out)
		if out.RevokeToken.Token.ID != tp.phoneID || out.RevokeToken.Token.RevokedAt == "" {
			t.Fatalf("revokeToken = %+v", out)
		}
		// An operation sent on the socket after the revocation does not run.
		phoneWS.Subscribe("q", `{ viewer { role } }`, nil)
		code, took := waitCloseCollect(t, phoneWS, 5*time.Second)
		t.Logf("WebSocket of the revoked token closed with %d, %v after the revocation returned (%v after it was sent)",
			code, took, time.Since(revokedAt).Round(time.Millisecond))
		if code != 4403 {
			t.Errorf("WebSocket of the revoked token: close %d, want 4403", code)
		}
		ev, err := sse.TryRead(5 * time.Second)
		if err != nil || !strings.Contains(string(ev.Data), "UNAUTHENTICATED") {
			t.Errorf("SSE of the revoked token: %q %s %v, want an UNAUTHENTICATED error", ev.Event, ev.Data, err)
		}
		select {
		case <-sse.Done():
		case <-time.After(5 * time.Second):
			t.Errorf("the SSE stream of the revoked token did not end")
		}
		if r := s.Do(t, tp.phone, `{ viewer { role } }`, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("HTTP with the revoked token (cached before): %d %s, want 401 at once", r.Status, r.Raw)
		}
		// The owner's other token and its socket go on.
		laptopWS.Subscribe("v", `{ viewer { role } }`, nil)
		if m := laptopWS.Read(5 * time.Second); m.Type != "next" || !strings.Contains(string(m.Payload), "USER") {
			t.Errorf("the other token's socket: %+v", m)
		}
		// Revoking again is harmless; another user's token is not found.
		s.MustData(t, tp.laptop, revokeMutation, map[string]any{"id": tp.phoneID}, nil)
		if r := s.Do(t, tp.laptop, revokeMutation, map[string]any{"id": tp.otherID}); r.FirstCode() != "NOT_FOUND" {
			t.Errorf("revoking another user's token: %s, want NOT_FOUND", r.Raw)
		}
	})
}

// waitCloseCollect reads until the socket closes, failing on any result of an
// operation (nothing may run after the revocation).
func waitCloseCollect(t *testing.T, ws *apptest.WS, timeout time.Duration) (websocket.StatusCode, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		m, err := ws.TryRead(time.Until(deadline))
		if err != nil {
			return websocket.CloseStatus(err), time.Since(start)
		}
		if m.Type == "next" && !strings.Contains(string(m.Payload), "UNAUTHENTICATED") {
			t.Errorf("an operation ran on the revoked token's socket: %s %s", m.Type, m.Payload)
		}
	}
}

// TestTokensListing: a user lists their own tokens (never a secret), the platform every
// token; revoked ones only on request; `current` marks the caller's.
func TestTokensListing(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	tp := mustTokenPair(t, s)
	s.MustData(t, tp.laptop, revokeMutation, map[string]any{"id": tp.phoneID}, nil)
	const q = `query($all: Boolean) { tokens(filter: {includeRevoked: $all}) { nodes { id role scopes current revokedAt user { id } } pageInfo { hasNextPage } } }`
	type list struct {
		Tokens struct {
			Nodes []struct {
				ID        string
				Role      string
				Scopes    []string
				Current   bool
				RevokedAt *string
				User      *struct{ ID string }
			}
		}
	}
	var mine list
	r := s.Do(t, tp.laptop, q, map[string]any{"all": true})
	if err := json.Unmarshal(r.Data, &mine); err != nil || len(r.Errors) > 0 {
		t.Fatalf("tokens: %s", r.Raw)
	}
	if strings.Contains(string(r.Raw), tp.laptop) || strings.Contains(string(r.Raw), "rc_") {
		t.Errorf("the listing shows a secret: %s", r.Raw)
	}
	if n := mine.Tokens.Nodes; len(n) != 2 || n[0].ID != tp.laptopID || !n[0].Current || n[0].RevokedAt != nil ||
		n[1].ID != tp.phoneID || n[1].Current || n[1].RevokedAt == nil || n[0].User == nil || n[0].User.ID != tp.userID {
		t.Errorf("the user's tokens: %s", r.Raw)
	}
	var live list
	s.MustData(t, tp.laptop, q, nil, &live)
	if len(live.Tokens.Nodes) != 1 {
		t.Errorf("without includeRevoked: %+v", live)
	}
	var all list
	s.MustData(t, apptest.PlatformToken, q, map[string]any{"all": true}, &all)
	if len(all.Tokens.Nodes) != 3 {
		t.Errorf("the platform sees %d tokens, want 3", len(all.Tokens.Nodes))
	}
	if r := s.Do(t, "", q, nil); r.FirstCode() != "UNAUTHENTICATED" {
		t.Errorf("without a token: %s", r.Raw)
	}
}

// TestRevocationReachesEveryProcess (issue 11, item 4, PostgreSQL): two server
// processes on one database; a token revoked through one stops working on the other
// within the notice's delivery (the change feed carries revocations): its WebSocket
// there closes with 4403 and HTTP answers 401 even though the other process had the
// token in its 5 s cache.
func TestRevocationReachesEveryProcess(t *testing.T) {
	url := dbtest.PostgresURL(t)
	env := map[string]string{"DATABASE_URL": url, "AUTH_CACHE_TTL": "5s"}
	a := apptest.Start(t, apptest.Options{Env: env})
	b := apptest.Start(t, apptest.Options{Env: env})
	tp := mustTokenPair(t, a)
	ws := apptest.DialWS(t, b.URL, map[string]any{"Authorization": "Bearer " + tp.phone})
	ws.Subscribe("upd", `subscription { resolutionUpdated { id } }`, nil)
	b.MustData(t, tp.phone, `{ viewer { role } }`, nil, nil) // in b's cache now
	time.Sleep(100 * time.Millisecond)

	start := time.Now()
	a.MustData(t, tp.laptop, revokeMutation, map[string]any{"id": tp.phoneID}, nil)
	code, took := waitCloseCollect(t, ws, 5*time.Second)
	t.Logf("the other process closed the revoked token's WebSocket with %d, %v after the revocation returned", code, took)
	if code != 4403 {
		t.Errorf("close %d, want 4403 within 5 s", code)
	}
	for {
		r := b.Do(t, tp.phone, `{ viewer { role } }`, nil)
		if r.Status == http.StatusUnauthorized {
			t.Logf("the other process answered 401 %v after the revocation was sent", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("the other process still accepts the revoked token %v later: %d", time.Since(start), r.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRevokedTokenEndsLegacySocket: a legacy graphql-ws connection (gqlgen's stock
// transport) of a revoked token is closed too (with that transport's code, 1000).
func TestRevokedTokenEndsLegacySocket(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	tp := mustTokenPair(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(s.URL, "http", "ws", 1), &websocket.DialOptions{Subprotocols: []string{"graphql-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init","payload":{"Authorization":"Bearer `+tp.phone+`"}}`))
	if _, b, err := c.Read(ctx); err != nil || !strings.Contains(string(b), "connection_ack") {
		t.Fatalf("legacy init: %s %v", b, err)
	}
	s.MustData(t, tp.laptop, revokeMutation, map[string]any{"id": tp.phoneID}, nil)
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("the legacy socket of the revoked token is still open")
			}
			t.Logf("legacy socket closed: %v", err)
			return
		}
		if strings.Contains(string(b), `"data"`) {
			t.Errorf("data on the revoked token's legacy socket: %s", b)
		}
	}
}

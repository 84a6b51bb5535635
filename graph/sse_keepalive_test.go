package graph_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// sseRequest posts a GraphQL request asking for an event stream.
func sseRequest(t *testing.T, c *http.Client, url, token, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp
}

// TestSSEKeepAlive: a quiet SSE subscription gets a comment line every SSE_KEEPALIVE
// (proxies and load balancers close connections idle for longer than their timeout,
// 60 s on many), and its events still arrive whole between them.
func TestSSEKeepAlive(t *testing.T) {
	t.Parallel()
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d, apptest.Options{Env: map[string]string{"SSE_KEEPALIVE": "50ms"}})
	cast := dbtest.MustCast(t, d)
	id := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
	body, _ := json.Marshal(map[string]any{"query": `subscription($id: ID!) { resolutionEventAdded(resolutionId: $id) { node { details } } }`,
		"variables": map[string]any{"id": id}})
	resp := sseRequest(t, http.DefaultClient, s.URL, cast.CompanyToken, string(body))
	defer resp.Body.Close()

	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	pings := 0
	deadline := time.After(10 * time.Second)
	for pings < 3 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			if l == ": ping" {
				pings++
			}
		case <-deadline:
			t.Fatalf("%d keep-alive comments in 10 s, want 3 at 50 ms", pings)
		}
	}
	dbtest.MustApply(t, d, id, dispute.ActorCustomer, dispute.ActionRespond, "Still waiting.", dbtest.Now())
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			data, found := strings.CutPrefix(l, "data: ")
			if !found {
				continue
			}
			if !json.Valid([]byte(data)) || !strings.Contains(data, "Still waiting.") {
				t.Fatalf("event data %s", data)
			}
			return
		case <-deadline:
			t.Fatal("no event after the action")
		}
	}
}

// TestSSEKeepAliveNotAfterTheEnd: a stream that ends (here a query over SSE, answered
// at once) writes nothing after it: gqlgen's keep-alive goroutine outlives the handler
// until the request's context ends, and a comment written then went onto a response
// net/http had finished with. Every answer on a reused connection must be exactly the
// stream it was.
func TestSSEKeepAliveNotAfterTheEnd(t *testing.T) {
	t.Parallel()
	s := apptest.New(t, dbtest.MustSQLite(t), apptest.Options{Env: map[string]string{"SSE_KEEPALIVE": "1ms"}})
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}}
	defer c.CloseIdleConnections()
	for i := range 200 {
		resp := sseRequest(t, c, s.URL, apptest.PlatformToken, `{"query":"{ viewer { role } }"}`)
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		text := strings.ReplaceAll(string(raw), ": ping\n\n", "")
		if text != ":\n\nevent: next\ndata: {\"data\":{\"viewer\":{\"role\":\"PLATFORM\"}}}\n\nevent: complete\n\n" {
			t.Fatalf("request %d: %q", i, raw)
		}
	}
}

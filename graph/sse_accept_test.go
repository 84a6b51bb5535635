package graph_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db/dbtest"
)

// TestEventStreamOnlyWhenPreferred: a POST gets a Server-Sent Events stream only when
// its Accept ranks text/event-stream first. urql sends every request with the JSON
// types first and text/event-stream after them: its queries get one JSON answer (and
// the request timeout), while graphql-sse's Accept gets the stream.
func TestEventStreamOnlyWhenPreferred(t *testing.T) {
	t.Parallel()
	s := apptest.New(t, dbtest.MustSQLite(t))
	for _, c := range []struct {
		accept, want string
	}{
		{"application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed", "application/graphql-response+json"},
		{"text/event-stream;q=0.5, application/json", "application/json"},
		{"text/event-stream", "text/event-stream"},
		{"text/event-stream, application/json;q=0.9", "text/event-stream"},
		{"application/json;q=0.5, text/event-stream", "text/event-stream"},
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL, strings.NewReader(`{"query":"{ viewer { role } }"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", c.accept)
		req.Header.Set("Authorization", "Bearer "+apptest.PlatformToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, c.want) {
			t.Errorf("Accept %q: Content-Type %q, want %s (%d %s)", c.accept, ct, c.want, resp.StatusCode, body)
		}
		if !strings.Contains(string(body), `"PLATFORM"`) {
			t.Errorf("Accept %q: no answer: %d %s", c.accept, resp.StatusCode, body)
		}
	}
}

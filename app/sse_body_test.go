package app_test

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"testing"

	"resolutioncenter/app/apptest"
)

// syncBuffer collects what the standard library's logger writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSSEMalformedBodyNotEchoedNorLogged: a request for an event stream (SSE) whose
// body is not a GraphQL request answers 400 (413 when too large) with a JSON error, as
// a POST does. gqlgen's SSE transport answered it by printing the whole body with the
// standard library's logger (raw, outside the JSON logs: a body could forge log lines,
// and any caller, without a token, could write a MiB of log per request; variables
// carry messages and e-mails, which are never logged) and by echoing it back.
func TestSSEMalformedBodyNotEchoedNorLogged(t *testing.T) {
	var stdlog syncBuffer
	prev := log.Writer()
	log.SetOutput(&stdlog)
	t.Cleanup(func() { log.SetOutput(prev) })
	s := apptest.Start(t, apptest.Options{Env: map[string]string{"MAX_BODY_BYTES": "65536"}})

	const secret = "customer-secret-e-mail@example.com"
	forged := "\n{\"level\":\"ERROR\",\"msg\":\"forged\"}\n"
	send := func(body string, chunked bool, token string) (int, string, string) {
		t.Helper()
		var rd io.Reader = strings.NewReader(body)
		if chunked {
			rd = io.MultiReader(rd) // no length: the body limit finds it reading
		}
		req, _ := http.NewRequest(http.MethodPost, s.URL, rd)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	for _, c := range []struct {
		name, body string
		chunked    bool
		status     int
	}{
		{"truncated", `{"query": "{ __typename }", "variables": {"email": "` + secret + forged, false, 400},
		{"not an object", `["` + secret + `"]`, false, 400},
		{"wrong types", `{"query": "{ __typename }", "variables": "` + secret + `"}`, false, 400},
		{"too large", `{"query": "{ __typename }", "variables": {"email": "` + secret + strings.Repeat("x", 70000) + `"}}`, true, 413},
	} {
		for _, token := range []string{"", apptest.PlatformToken} {
			status, ct, body := send(c.body, c.chunked, token)
			if status != c.status || !strings.HasPrefix(ct, "application/json") || !strings.Contains(body, `"INVALID_ARGUMENT"`) {
				t.Errorf("%s (token %v): %d %s %.300s, want %d with an INVALID_ARGUMENT JSON error", c.name, token != "", status, ct, body, c.status)
			}
			if strings.Contains(body, secret) {
				t.Errorf("%s: the answer echoes the body: %.300s", c.name, body)
			}
		}
	}
	for name, out := range map[string]string{"standard logger": stdlog.String(), "server log": s.Out.String()} {
		if strings.Contains(out, secret) || strings.Contains(out, "forged") {
			t.Errorf("the %s has the request body: %.500s", name, out)
		}
	}

	// A well-formed request still streams.
	status, ct, body := send(`{"query": "{ __typename }"}`, false, apptest.PlatformToken)
	if status != 200 || !strings.HasPrefix(ct, "text/event-stream") || !strings.Contains(body, `"__typename":"Query"`) {
		t.Errorf("a valid SSE request: %d %s %.300s", status, ct, body)
	}
}

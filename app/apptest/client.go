package apptest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Response is a GraphQL answer over HTTP: its status, headers and raw body, decoded.
type Response struct {
	Status int             `json:"-"`
	Header http.Header     `json:"-"`
	Raw    []byte          `json:"-"`
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// FirstCode returns the code of the first error, or "".
func (r Response) FirstCode() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Code()
}

// HasData reports whether data is present and not null.
func (r Response) HasData() bool { return len(r.Data) > 0 && string(r.Data) != "null" }

// Request is one GraphQL request over HTTP POST.
type Request struct {
	Query     string
	Variables map[string]any
	// DocumentID names a trusted document (sent as documentId); Extensions are sent as
	// extensions. With either set, an empty Query is left out of the body.
	DocumentID string
	Extensions map[string]any
	// Token is sent as "Authorization: Bearer <token>" unless empty.
	Token string
	// Accept is the Accept header (default application/json).
	Accept string
	// Header holds extra headers (they override the defaults).
	Header map[string]string
	// Client, when set, sends the request instead of the shared client (60 s timeout,
	// 64 idle connections per host): for a test that wants its own timeout or a
	// connection pool of its own, apart from the other traffic.
	Client *http.Client
}

// Send posts r to url (a /graphql endpoint) and decodes the answer. A body that is not
// JSON is an error, with the Response still carrying status and body.
func Send(ctx context.Context, url string, r Request) (Response, error) {
	fields := map[string]any{"query": r.Query, "variables": r.Variables}
	if r.DocumentID != "" {
		fields["documentId"] = r.DocumentID
	}
	if r.Extensions != nil {
		fields["extensions"] = r.Extensions
	}
	if r.Query == "" && (r.DocumentID != "" || r.Extensions != nil) {
		delete(fields, "query")
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return Response{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if r.Accept != "" {
		req.Header.Set("Accept", r.Accept)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	client := postClient
	if r.Client != nil {
		client = r.Client
	}
	resp, err := client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	out := Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("decode %s answer %q: %w", resp.Status, Trunc(raw, 300), err)
	}
	return out, nil
}

// Post sends a query as token ("" for none) to url, accepting
// application/graphql-response+json, without a test: for goroutines.
func Post(ctx context.Context, url, token, query string, vars map[string]any) (Response, error) {
	return Send(ctx, url, Request{Query: query, Variables: vars, Token: token,
		Accept: "application/graphql-response+json, application/json"})
}

// Query posts a query to url as token (Accept: application/json) and decodes the
// answer, failing the test on a transport error or a body that is not a GraphQL
// response.
func Query(tb testing.TB, url, token, query string, vars map[string]any) Response {
	tb.Helper()
	r, err := Send(context.Background(), url, Request{Query: query, Variables: vars, Token: token})
	if err != nil {
		tb.Fatalf("post: %v", err)
	}
	return r
}

// MustQuery posts to url and fails the test on any error; data is decoded into out
// (unless nil).
func MustQuery(tb testing.TB, url, token, query string, vars map[string]any, out any) {
	tb.Helper()
	r := Query(tb, url, token, query, vars)
	if r.Status != http.StatusOK || len(r.Errors) > 0 || !r.HasData() {
		tb.Fatalf("unexpected answer %d: %s\nquery: %s", r.Status, Trunc(r.Raw, 500), query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			tb.Fatalf("decode data %s: %v", r.Data, err)
		}
	}
}

// Do posts a query to the server as token ("" for none) and decodes the answer.
func (s *Server) Do(tb testing.TB, token, query string, vars map[string]any) Response {
	tb.Helper()
	return Query(tb, s.URL, token, query, vars)
}

// MustData posts to the server and fails the test on any error, decoding data into
// out (unless nil).
func (s *Server) MustData(tb testing.TB, token, query string, vars map[string]any, out any) {
	tb.Helper()
	MustQuery(tb, s.URL, token, query, vars, out)
}

// Get fetches a plain endpoint (/readyz, /metrics...) and returns status and body.
func Get(ctx context.Context, url string, hdr map[string]string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := postClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// Trunc shortens b to n bytes for messages.
func Trunc(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + fmt.Sprintf("...(%d bytes)", len(b))
}

var postClient = &http.Client{Timeout: 60 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}

// CloseIdleConnections closes the idle keep-alive connections of the clients this
// package uses and of http.DefaultClient. Call it before stopping a server whose
// shutdown time is measured: Go's http.Server.Shutdown waits up to 5 s for a
// connection that was opened but never carried a request, which an HTTP client's
// connection pool leaves behind now and then.
func CloseIdleConnections() {
	postClient.CloseIdleConnections()
	sseClient.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()
}

// RawResult is the outcome of one request sent over a raw TCP connection.
type RawResult struct {
	Resp      *http.Response
	Body      []byte
	SentAt    time.Time // when the last byte of the request was handed to the kernel
	FirstByte time.Time // when the first byte of the response arrived
	WriteErr  error
	ReadErr   error
}

// Latency is the time from the end of the send to the first byte of the answer
// (zero or negative when the server answered before the client finished sending).
func (r RawResult) Latency() time.Duration {
	if r.SentAt.IsZero() {
		return 0
	}
	return r.FirstByte.Sub(r.SentAt)
}

// Raw writes a whole HTTP/1.1 request over a fresh TCP connection while reading the
// answer concurrently, so that timing is measured precisely and an early answer (413
// before the body was read) is seen even when the server stops reading.
func Raw(addr string, req []byte, timeout time.Duration) RawResult {
	var res RawResult
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		res.ReadErr = err
		return res
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_, res.WriteErr = conn.Write(req)
		res.SentAt = time.Now()
	}()
	fr := &firstByteReader{r: conn}
	br := bufio.NewReaderSize(fr, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		res.ReadErr = err
		<-wrote
		return res
	}
	res.FirstByte = fr.first
	res.Body, res.ReadErr = io.ReadAll(resp.Body)
	resp.Body.Close()
	res.Resp = resp
	// Do not wait forever for a writer the server stopped reading from.
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	<-wrote
	return res
}

type firstByteReader struct {
	r     io.Reader
	first time.Time
}

func (f *firstByteReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && f.first.IsZero() {
		f.first = time.Now()
	}
	return n, err
}

// RawPost formats a POST /graphql request as token with a body (Content-Length set
// unless chunked).
func RawPost(host, token string, hdr map[string]string, body []byte, chunked bool) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/graphql-response+json\r\nAuthorization: Bearer %s\r\nConnection: close\r\n", host, token)
	for k, v := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	if chunked {
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		for len(body) > 0 {
			n := min(len(body), 32<<10)
			fmt.Fprintf(&b, "%x\r\n", n)
			b.Write(body[:n])
			b.WriteString("\r\n")
			body = body[n:]
		}
		b.WriteString("0\r\n\r\n")
		return b.Bytes()
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return b.Bytes()
}

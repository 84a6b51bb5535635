package main

// Helpers shared by hostile_test.go and outage_test.go: the real server started
// in-process through run() on port 0, fixtures, a GraphQL client and a TCP proxy that
// simulates a database outage. Every package-level name starts with "hx" so that it
// cannot clash with the other test files of package main (e2e_test.go owns TestMain).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// hxPlatformToken is the PLATFORM_TOKEN of every server these tests start. It needs no
// database lookup, so it keeps working during a database outage.
const hxPlatformToken = "hx-platform-token-0123456789"

// hxOutput is a goroutine-safe writer capturing the server's stdout (configuration,
// "listening on", and the JSON log lines).
type hxOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan struct{} // signalled on every write
}

func newHXOutput() *hxOutput { return &hxOutput{ch: make(chan struct{}, 1)} }

func (o *hxOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.buf.Write(p)
	o.mu.Unlock()
	select {
	case o.ch <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (o *hxOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Lines returns the complete lines written so far.
func (o *hxOutput) Lines() []string {
	s := o.String()
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	} else {
		return nil
	}
	return strings.Split(s, "\n")
}

// JSONLines decodes the lines that are JSON objects (the slog JSON handler's records).
func (o *hxOutput) JSONLines() []map[string]any {
	var out []map[string]any
	for _, l := range o.Lines() {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// hxServer is the real binary's run() serving in-process.
type hxServer struct {
	URL  string // http://127.0.0.1:PORT
	Addr string // 127.0.0.1:PORT
	Out  *hxOutput

	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	runErr   error
}

// GraphQL returns the /graphql endpoint.
func (s *hxServer) GraphQL() string { return s.URL + "/graphql" }

// hxStart runs the server with env (on top of test defaults: ADDR 127.0.0.1:0, JSON
// logs, the platform token, no demo data, rate limiting off) and waits until it listens.
// The server is stopped when the test ends.
func hxStart(tb testing.TB, env map[string]string) *hxServer {
	tb.Helper()
	vals := map[string]string{
		"ADDR":           "127.0.0.1:0",
		"LOG_FORMAT":     "json",
		"PLATFORM_TOKEN": hxPlatformToken,
		"SEED_DEMO":      "false",
		"RATE_LIMIT":     "0",
		"SWEEP_INTERVAL": "1h",
		"SHUTDOWN_GRACE": "5s",
	}
	for k, v := range env {
		vals[k] = v
	}
	if vals["DATABASE_URL"] == "" {
		vals["DATABASE_URL"] = "sqlite:" + filepath.Join(tb.TempDir(), "rc.db")
	}
	getenv := func(k string) string { return vals[k] }
	out := newHXOutput()
	ctx, cancel := context.WithCancel(context.Background())
	s := &hxServer{Out: out, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, nil, getenv, out) }()
	deadline := time.After(30 * time.Second)
	for s.Addr == "" {
		select {
		case err := <-s.done:
			cancel()
			tb.Fatalf("run() returned before listening: %v\noutput:\n%s", err, out.String())
		case <-deadline:
			cancel()
			tb.Fatalf("server did not listen within 30s; output:\n%s", out.String())
		case <-out.ch:
		case <-time.After(20 * time.Millisecond):
		}
		for _, l := range out.Lines() {
			if rest, ok := strings.CutPrefix(l, "listening on http://"); ok {
				s.Addr, _, _ = strings.Cut(rest, " ")
				break
			}
		}
	}
	s.URL = "http://" + s.Addr
	tb.Cleanup(func() {
		if tb.Failed() {
			hxLogServerProblems(tb, out)
		}
		if err := s.Stop(15 * time.Second); err != nil && !errors.Is(err, errHXStopTimeout) {
			tb.Logf("server stopped with: %v", err)
		}
	})
	return s
}

// hxLogServerProblems logs the server's warnings and errors (at most 40, distinct
// messages first) to help explain a failure.
func hxLogServerProblems(tb testing.TB, out *hxOutput) {
	seen := map[string]int{}
	var lines []string
	for _, l := range out.JSONLines() {
		if l["level"] != "WARN" && l["level"] != "ERROR" {
			continue
		}
		key := fmt.Sprint(l["msg"], l["err"])
		if seen[key]++; seen[key] > 2 {
			continue
		}
		b, _ := json.Marshal(l)
		lines = append(lines, string(b))
	}
	for i, l := range lines {
		if i == 40 {
			tb.Logf("server: ... %d more", len(lines)-40)
			break
		}
		tb.Logf("server: %s", l)
	}
}

var errHXStopTimeout = errors.New("run() did not return in time")

// Stop cancels run()'s context (what SIGTERM does) and waits for run to return, up to
// timeout. It returns run's error.
func (s *hxServer) Stop(timeout time.Duration) error {
	s.stopOnce.Do(func() {
		s.cancel()
		select {
		case s.runErr = <-s.done:
		case <-time.After(timeout):
			s.runErr = errHXStopTimeout
		}
	})
	return s.runErr
}

// hxFixture is a small data set: a company with a merchant token, a customer with a
// token, and one open case per payment.
type hxFixture struct {
	Company       db.Company
	User          db.User
	CustomerToken string
	MerchantToken string
	Payments      []db.Payment
	Cases         []string
}

// hxSeed creates the fixture in d with n open cases (and one spare payment).
func hxSeed(tb testing.TB, d *db.DB, n int) hxFixture {
	tb.Helper()
	f := hxFixture{Company: dbtest.MustCompany(tb, d), User: dbtest.MustUser(tb, d)}
	f.CustomerToken = dbtest.MustToken(tb, d, db.TokenUser, f.User.ID, true)
	f.MerchantToken = dbtest.MustToken(tb, d, db.TokenCompany, f.Company.ID, true)
	for i := 0; i < n+1; i++ {
		f.Payments = append(f.Payments, dbtest.MustPayment(tb, d, f.User, f.Company, ""))
	}
	for i := 0; i < n; i++ {
		res := dbtest.MustOpen(tb, d, f.Payments[i], dispute.IssueItemNotReceived, dbtest.Now().Add(time.Duration(i)*time.Millisecond))
		f.Cases = append(f.Cases, res.Case.ID)
	}
	return f
}

// hxSQLiteWithFixture creates a migrated SQLite file with the fixture and returns its
// DATABASE_URL; the handle is closed so that only the server uses the file.
func hxSQLiteWithFixture(tb testing.TB, n int) (string, hxFixture) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "rc.db")
	d, err := db.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	if _, err := d.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	f := hxSeed(tb, d, n)
	d.Close()
	return "sqlite:" + path, f
}

// hxResponse is a decoded GraphQL answer.
type hxResponse struct {
	Status int             `json:"-"`
	Header http.Header     `json:"-"`
	Raw    []byte          `json:"-"`
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// Code is the first error's extensions.code.
func (r hxResponse) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// HasData reports whether data is present and not null.
func (r hxResponse) HasData() bool {
	return len(r.Data) > 0 && string(r.Data) != "null"
}

var hxClient = &http.Client{Timeout: 30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true}}

// hxPost sends one GraphQL request (application/json) with optional extra headers.
func hxPost(ctx context.Context, client *http.Client, endpoint, token, query string, vars map[string]any, hdr map[string]string) (hxResponse, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return hxResponse{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return hxResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if client == nil {
		client = hxClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return hxResponse{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return hxResponse{}, err
	}
	r := hxResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("decode %d %q: %w", resp.StatusCode, hxTrunc(raw, 300), err)
	}
	return r, nil
}

// hxMust posts and fails the test on a transport error or any GraphQL error.
func hxMust(tb testing.TB, endpoint, token, query string, vars map[string]any, out any) {
	tb.Helper()
	r, err := hxPost(context.Background(), nil, endpoint, token, query, vars, nil)
	if err != nil {
		tb.Fatalf("post: %v", err)
	}
	if r.Status != http.StatusOK || len(r.Errors) > 0 || !r.HasData() {
		tb.Fatalf("unexpected answer %d: %s\nquery: %s", r.Status, hxTrunc(r.Raw, 500), query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			tb.Fatalf("decode data %s: %v", r.Data, err)
		}
	}
}

func hxTrunc(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + fmt.Sprintf("...(%d bytes)", len(b))
}

// hxGet fetches a plain endpoint (/readyz, /metrics...) and returns status and body.
func hxGet(ctx context.Context, u string, hdr map[string]string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := hxClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// hxRawResult is the outcome of one request sent over a raw TCP connection.
type hxRawResult struct {
	Resp      *http.Response
	Body      []byte
	SentAt    time.Time // when the last byte of the request was handed to the kernel
	FirstByte time.Time // when the first byte of the response arrived
	WriteErr  error
	ReadErr   error
}

// Latency is the time from the end of the send to the first byte of the answer
// (zero or negative when the server answered before the client finished sending).
func (r hxRawResult) Latency() time.Duration {
	if r.SentAt.IsZero() {
		return 0
	}
	return r.FirstByte.Sub(r.SentAt)
}

// hxRaw writes a whole HTTP/1.1 request over a fresh TCP connection while reading the
// answer concurrently, so that timing is measured precisely and an early answer (413
// before the body was read) is seen even when the server stops reading.
func hxRaw(addr string, req []byte, timeout time.Duration) hxRawResult {
	var res hxRawResult
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
	fr := &hxFirstByteReader{r: conn}
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

type hxFirstByteReader struct {
	r     io.Reader
	first time.Time
}

func (f *hxFirstByteReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && f.first.IsZero() {
		f.first = time.Now()
	}
	return n, err
}

// hxRequest formats a POST /graphql request with a body (Content-Length set unless
// chunked is true).
func hxRequest(host string, hdr map[string]string, body []byte, chunked bool) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/graphql-response+json\r\nAuthorization: Bearer %s\r\nConnection: close\r\n", host, hxPlatformToken)
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

// hxProxy forwards a local port to a target address. Stop simulates the database
// going down (listener and every proxied connection closed); Start brings it back on
// the same port.
type hxProxy struct {
	Target string
	Addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func hxStartProxy(tb testing.TB, target string) *hxProxy {
	tb.Helper()
	p := &hxProxy{Target: target, Addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	if err := p.Start(); err != nil {
		tb.Fatalf("proxy: %v", err)
	}
	tb.Cleanup(p.Stop)
	return p
}

// Start listens (again) on p.Addr and forwards every accepted connection.
func (p *hxProxy) Start() error {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after a stop
		if ln, err = net.Listen("tcp", p.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln = ln
	p.Addr = ln.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.forward(c) }()
		}
	}()
	return nil
}

func (p *hxProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *hxProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *hxProxy) forward(client net.Conn) {
	if !p.track(client) {
		client.Close()
		return
	}
	defer p.untrack(client)
	defer client.Close()
	server, err := net.DialTimeout("tcp", p.Target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(server) {
		server.Close()
		return
	}
	defer p.untrack(server)
	defer server.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(server, client); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, server); done <- struct{}{} }()
	<-done
}

// Stop closes the listener and every proxied connection, and waits for the
// forwarding goroutines.
func (p *hxProxy) Stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	p.wg.Wait()
}

// hxProxiedURL returns rawURL with its host replaced by addr.
func hxProxiedURL(tb testing.TB, rawURL, addr string) string {
	tb.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		tb.Fatalf("parse %q: %v", rawURL, err)
	}
	u.Host = addr
	return u.String()
}

// hxHostPort returns the host:port of a postgres URL (default port 5432).
func hxHostPort(tb testing.TB, rawURL string) string {
	tb.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		tb.Fatalf("parse %q: %v", rawURL, err)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432")
	}
	return u.Host
}

// hxRaceEnabled reports whether this test binary was built with -race.
func hxRaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

// hxBuild builds the server binary into dir (with -race when this test binary has it,
// so that the build cache of the test run is reused).
func hxBuild(tb testing.TB, dir string) string {
	tb.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		tb.Skipf("go tool not found: %v", err)
	}
	bin := filepath.Join(dir, "resolutioncenter-hx")
	args := []string{"build", "-o", bin}
	if hxRaceEnabled() {
		args = append(args, "-race")
	}
	cmd := exec.Command(goBin, append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// hxChild is the server binary running as a child process: work it cannot bound
// (CPU-bound validation) dies with it.
type hxChild struct {
	Addr string
	URL  string
	Out  *hxOutput
	cmd  *exec.Cmd
}

// hxStartChild runs bin with the test defaults of hxStart plus env, and waits until
// it listens. It is killed when the test ends.
func hxStartChild(tb testing.TB, bin string, env map[string]string) *hxChild {
	tb.Helper()
	vals := map[string]string{
		"ADDR": "127.0.0.1:0", "LOG_FORMAT": "json", "PLATFORM_TOKEN": hxPlatformToken,
		"SEED_DEMO": "false", "RATE_LIMIT": "0", "SWEEP_INTERVAL": "1h", "SHUTDOWN_GRACE": "2s",
		"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"),
	}
	for k, v := range env {
		vals[k] = v
	}
	cmd := exec.Command(bin)
	cmd.Dir = tb.TempDir()
	for k, v := range vals {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := newHXOutput()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	c := &hxChild{Out: out, cmd: cmd}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for c.Addr == "" {
		if time.Now().After(deadline) {
			tb.Fatalf("child server did not listen within 30s; output:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
		for _, l := range out.Lines() {
			if rest, ok := strings.CutPrefix(l, "listening on http://"); ok {
				c.Addr, _, _ = strings.Cut(rest, " ")
				break
			}
		}
	}
	c.URL = "http://" + c.Addr
	return c
}

// RSS returns the child's resident set size and its peak since the last ResetPeak,
// in bytes (Linux /proc; zeros elsewhere).
func (c *hxChild) RSS() (rss, peak uint64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		var kb uint64
		if _, err := fmt.Sscanf(l, "VmRSS: %d kB", &kb); err == nil {
			rss = kb << 10
		}
		if _, err := fmt.Sscanf(l, "VmHWM: %d kB", &kb); err == nil {
			peak = kb << 10
		}
	}
	return rss, peak
}

// ResetPeak resets the child's peak RSS (Linux: write 5 to /proc/PID/clear_refs).
func (c *hxChild) ResetPeak() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", c.cmd.Process.Pid), []byte("5"), 0)
}

// CPU returns the child's user+system CPU time (Linux /proc; zero elsewhere).
func (c *hxChild) CPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

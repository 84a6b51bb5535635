package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/db/dbtest"
	"resolutioncenter/graph/graphtest"
)

// End to end: the real binary, built once, run as separate processes on one database,
// driven over HTTP, WebSocket and Server-Sent Events exactly as clients would.

var (
	rcBinary string
	buildErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rc-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rcBinary = filepath.Join(dir, "rc")
	if out, err := exec.Command("go", "build", "-o", rcBinary, ".").CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build: %v\n%s", err, out)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const e2ePlatformToken = "e2e-platform-token"

// e2eProc is one running server process.
type e2eProc struct {
	name string
	cmd  *exec.Cmd
	URL  string // the /graphql endpoint
	Base string // http://host:port

	addr chan string
	mu   sync.Mutex
	out  []string // the last lines of stdout and stderr
	done chan struct{}
	err  error // cmd.Wait's result, after done
}

var listeningRE = regexp.MustCompile(`listening on (http://\S+)`)

// e2eStart starts the binary with env on top of the test's environment and waits for
// its "listening on" line. It is stopped (SIGTERM) when the test ends.
func e2eStart(t *testing.T, name string, env map[string]string) *e2eProc {
	t.Helper()
	p := e2eLaunch(t, name, env)
	p.waitListening(t)
	return p
}

// e2eLaunch starts the binary without waiting for it to listen.
func e2eLaunch(t *testing.T, name string, env map[string]string) *e2eProc {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	base := map[string]string{"ADDR": "127.0.0.1:0", "PLATFORM_TOKEN": e2ePlatformToken, "SEED_DEMO": "false",
		"LOG_FORMAT": "json", "SHUTDOWN_GRACE": "5s"}
	for k, v := range env {
		base[k] = v
	}
	cmd := exec.Command(rcBinary)
	cmd.Env = os.Environ()
	for k, v := range base {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &e2eProc{name: name, cmd: cmd, done: make(chan struct{}), addr: make(chan string, 1)}
	addr := p.addr
	var readers sync.WaitGroup
	scan := func(r io.Reader, look bool) {
		defer readers.Done()
		br := bufio.NewReaderSize(r, 1<<16)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				if look {
					if m := listeningRE.FindStringSubmatch(line); m != nil {
						select {
						case addr <- m[1]:
						default:
						}
					}
				}
				p.mu.Lock()
				p.out = append(p.out, strings.TrimRight(line, "\n"))
				if len(p.out) > 400 {
					p.out = p.out[len(p.out)-300:]
				}
				p.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}
	readers.Add(2)
	go scan(stdout, true)
	go scan(stderr, false)
	go func() {
		readers.Wait()
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("output of %s (last lines):\n%s", name, p.output(60))
		}
	})
	return p
}

// waitListening waits for the process's "listening on" line.
func (p *e2eProc) waitListening(t *testing.T) {
	t.Helper()
	select {
	case a := <-p.addr:
		p.Base = a
		p.URL = a + "/graphql"
	case <-p.done:
		t.Fatalf("%s exited before listening (%v):\n%s", p.name, p.err, p.output(60))
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: no listening line:\n%s", p.name, p.output(60))
	}
}

func (p *e2eProc) output(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := p.out
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// terminate sends SIGTERM and returns when it was sent.
func (p *e2eProc) terminate(t *testing.T) time.Time {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("%s: SIGTERM: %v", p.name, err)
	}
	return time.Now()
}

// waitExit waits up to limit for the process to exit and returns its exit code and
// how long after since it exited.
func (p *e2eProc) waitExit(t *testing.T, since time.Time, limit time.Duration) (int, time.Duration) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(time.Until(since.Add(limit))):
		t.Fatalf("%s did not exit within %v of SIGTERM:\n%s", p.name, limit, p.output(40))
	}
	el := time.Since(since)
	code := 0
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		code = ee.ExitCode()
	} else if p.err != nil {
		t.Fatalf("%s: %v", p.name, p.err)
	}
	return code, el
}

// stop sends SIGTERM and returns the exit code and how long the process took to exit.
func (p *e2eProc) stop(t *testing.T, limit time.Duration) (int, time.Duration) {
	t.Helper()
	return p.waitExit(t, p.terminate(t), limit)
}

// vmRSS returns the process's resident set size in bytes.
func (p *e2eProc) vmRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// subscriptions returns the server's active subscription count from /metrics, or -1
// when it does not report one.
func (p *e2eProc) subscriptions() float64 {
	resp, err := http.Get(p.Base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	total, found := 0.0, false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "rc_subscriptions{") {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err == nil {
				total += v
				found = true
			}
		}
	}
	if !found {
		return -1
	}
	return total
}

// waitSubscribed waits until the processes report at least want subscriptions in all;
// when they report none (no such metric), it gives them a second instead.
func waitSubscribed(t *testing.T, procs []*e2eProc, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		total, reported := 0.0, true
		for _, p := range procs {
			n := p.subscriptions()
			if n < 0 {
				reported = false
				break
			}
			total += n
		}
		if !reported {
			time.Sleep(time.Second)
			return
		}
		if total >= float64(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("servers report %v subscriptions, want %d", total, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gql posts a request and fails the test on a transport error or any GraphQL error;
// it decodes data into out.
func gql(t *testing.T, url, token, query string, vars map[string]any, out any) {
	t.Helper()
	r, err := graphtest.Post(context.Background(), url, token, query, vars)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) > 0 {
		t.Fatalf("errors %+v\nquery %s", r.Errors, query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatalf("decode %s: %v", r.Data, err)
		}
	}
	if strings.Contains(string(r.Data), `"userErrors":[{`) {
		t.Fatalf("refused: %s\nquery %s", r.Data, query)
	}
}

// e2eWorld is the fixtures, created through the API: two merchants, two customers, a
// team member of the first merchant, and cases:
//
//	A, B, C: customer c1 against merchant b1 (subscribed to in detail)
//	E:       customer c1 against merchant b2
//	F:       customer c2 against merchant b1
type e2eWorld struct {
	tok   map[string]string    // by principal: c1, c2, b1, b2, team, plat
	ids   map[string]string    // the companies' and users' IDs, by principal
	cases map[string]string    // by key
	party map[string][2]string // by case key: its customer and merchant
}

var e2eCaseKeys = []string{"A", "B", "C", "E", "F"}

func e2eFixtures(t *testing.T, url string) *e2eWorld {
	t.Helper()
	w := &e2eWorld{tok: map[string]string{"plat": e2ePlatformToken}, cases: map[string]string{},
		party: map[string][2]string{"A": {"c1", "b1"}, "B": {"c1", "b1"}, "C": {"c1", "b1"}, "E": {"c1", "b2"}, "F": {"c2", "b1"}}}
	sfx := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	ids := map[string]string{}
	for _, b := range []string{"b1", "b2"} {
		var out struct {
			CreateCompany struct{ Company struct{ ID string } }
		}
		gql(t, url, e2ePlatformToken, `mutation($t: String!, $r: String!) { createCompany(input: {title: $t, route: $r}) {
			company { id } userErrors { code message } } }`, map[string]any{"t": "Merchant " + b, "r": b + "-" + sfx}, &out)
		ids[b] = out.CreateCompany.Company.ID
	}
	for _, u := range []string{"c1", "c2", "team"} {
		var out struct {
			CreateUser struct{ User struct{ ID string } }
		}
		gql(t, url, e2ePlatformToken, `mutation($n: String!, $u: String!, $e: String!) { createUser(input: {name: $n, username: $u, email: $e}) {
			user { id } userErrors { code message } } }`, map[string]any{"n": "User " + u, "u": u + "_" + sfx, "e": u + "." + sfx + "@example.com"}, &out)
		ids[u] = out.CreateUser.User.ID
	}
	gql(t, url, e2ePlatformToken, `mutation($c: ID!, $u: ID!) { addTeamMember(input: {companyId: $c, userId: $u}) { userErrors { code message } } }`,
		map[string]any{"c": ids["b1"], "u": ids["team"]}, nil)
	for _, p := range []struct{ name, field string }{{"c1", "userId"}, {"c2", "userId"}, {"team", "userId"}, {"b1", "companyId"}, {"b2", "companyId"}} {
		var out struct{ CreateToken struct{ Token string } }
		gql(t, url, e2ePlatformToken, `mutation($id: ID!) { createToken(input: {`+p.field+`: $id, scopes: [READ, MANAGE], label: "e2e"}) {
			token userErrors { code message } } }`, map[string]any{"id": ids[p.name]}, &out)
		w.tok[p.name] = out.CreateToken.Token
	}
	for _, k := range e2eCaseKeys {
		cust, biz := w.party[k][0], w.party[k][1]
		var pay struct {
			CreatePayment struct{ Payment struct{ ID string } }
		}
		gql(t, url, e2ePlatformToken, `mutation($u: ID!, $c: ID!) { createPayment(input: {userId: $u, companyId: $c, currency: "USD", totalMinor: 4999}) {
			payment { id } userErrors { code message } } }`, map[string]any{"u": ids[cust], "c": ids[biz]}, &pay)
		var open struct {
			OpenResolution struct{ Resolution struct{ ID string } }
		}
		gql(t, url, w.tok[cust], `mutation($p: ID!) { openResolution(input: {paymentId: $p, issue: ITEM_NOT_RECEIVED, message: "Never arrived."}) {
			resolution { id } userErrors { code message } } }`, map[string]any{"p": pay.CreatePayment.Payment.ID}, &open)
		w.cases[k] = open.OpenResolution.Resolution.ID
	}
	w.ids = ids
	return w
}

// sees tells whether principal may see case k at all.
func (w *e2eWorld) sees(principal, k string) bool {
	cust, biz := w.party[k][0], w.party[k][1]
	switch principal {
	case "plat":
		return true
	case "team":
		return biz == "b1"
	}
	return principal == cust || principal == biz
}

const (
	e2eEventSub = `subscription($id: ID!, $after: String) { resolutionEventAdded(resolutionId: $id, after: $after) {
		cursor node { position action createdAt } } }`
	e2eUpdateSub  = `subscription($f: ResolutionUpdatesFilter) { resolutionUpdated(filter: $f) { id version status } }`
	e2eEventsPage = `query($id: ID!, $after: String) { resolution(id: $id) { version
		events(first: 100, after: $after) { edges { cursor node { position } } pageInfo { hasNextPage endCursor } } } }`
)

// e2eTimeline returns a case as principal sees it through the API: its version and
// its visible events' positions and cursors, oldest first.
func e2eTimeline(t *testing.T, url, token, caseID string) (version int, positions []int, cursors map[int]string) {
	t.Helper()
	cursors = map[int]string{}
	var after any
	for {
		var out struct {
			Resolution struct {
				Version int
				Events  struct {
					Edges []struct {
						Cursor string
						Node   struct{ Position int }
					}
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
		}
		gql(t, url, token, e2eEventsPage, map[string]any{"id": caseID, "after": after}, &out)
		version = out.Resolution.Version
		for _, e := range out.Resolution.Events.Edges {
			positions = append(positions, e.Node.Position)
			cursors[e.Node.Position] = e.Cursor
		}
		if !out.Resolution.Events.PageInfo.HasNextPage {
			break
		}
		after = out.Resolution.Events.PageInfo.EndCursor
	}
	sort.Ints(positions)
	return version, positions, cursors
}

// e2eStream is what one subscription received.
type e2eStream struct {
	name      string
	principal string
	caseKey   string // resolutionEventAdded on this case; "" for resolutionUpdated
	allowed   func(caseKey string) bool
	wantCode  string // a subscription meant to be refused with this code

	mu        sync.Mutex
	positions []int
	latency   []time.Duration
	versions  map[string][]int // by case ID
	codes     []string
	completed bool
	ended     bool // the transport ended (connection closed, response over)
	closeCode websocket.StatusCode
	problems  []string
}

func (s *e2eStream) problem(format string, args ...any) {
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

// next records one result (a GraphQL response).
func (s *e2eStream) next(payload []byte) {
	now := time.Now()
	var r struct {
		Data struct {
			ResolutionEventAdded *struct {
				Cursor string
				Node   struct {
					Position  int
					CreatedAt time.Time
				}
			}
			ResolutionUpdated *struct {
				ID      string
				Version int
			}
		}
		Errors []graphtest.Error
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.completed {
		s.problem("result after complete: %s", payload)
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		s.problem("bad payload %s: %v", payload, err)
		return
	}
	for _, e := range r.Errors {
		s.codes = append(s.codes, e.Code())
	}
	switch {
	case r.Data.ResolutionEventAdded != nil:
		s.positions = append(s.positions, r.Data.ResolutionEventAdded.Node.Position)
		s.latency = append(s.latency, now.Sub(r.Data.ResolutionEventAdded.Node.CreatedAt))
	case r.Data.ResolutionUpdated != nil:
		if s.versions == nil {
			s.versions = map[string][]int{}
		}
		u := r.Data.ResolutionUpdated
		s.versions[u.ID] = append(s.versions[u.ID], u.Version)
	case len(r.Errors) == 0:
		s.problem("empty result %s", payload)
	}
}

func (s *e2eStream) errors(payload []byte) {
	var list []graphtest.Error
	_ = json.Unmarshal(payload, &list)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range list {
		s.codes = append(s.codes, e.Code())
	}
	if len(list) == 0 {
		s.problem("error message without errors: %s", payload)
	}
}

func (s *e2eStream) complete() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.completed = true
}

// e2eWS is one WebSocket connection carrying several subscriptions.
type e2eWS struct {
	ws      *graphtest.WS
	streams map[string]*e2eStream // by operation ID
	done    chan struct{}
}

func e2eDialWS(t *testing.T, url, token string) *e2eWS {
	t.Helper()
	ws := graphtest.DialWS(t, url, map[string]any{"Authorization": "Bearer " + token})
	return &e2eWS{ws: ws, streams: map[string]*e2eStream{}, done: make(chan struct{})}
}

func (c *e2eWS) subscribe(id string, s *e2eStream, query string, vars map[string]any) {
	c.streams[id] = s
	c.ws.Subscribe(id, query, vars)
}

// run reads the connection until it ends; call it after the first subscribe.
func (c *e2eWS) run() {
	msgs, end := graphtest.Pump(c.ws)
	streams := map[string]*e2eStream{}
	for id, s := range c.streams {
		streams[id] = s
	}
	go func() {
		defer close(c.done)
		for m := range msgs {
			s := streams[m.ID]
			if s == nil {
				continue
			}
			switch m.Type {
			case "next":
				s.next(m.Payload)
			case "error":
				s.errors(m.Payload)
			case "complete":
				s.complete()
			default:
				s.mu.Lock()
				s.problem("unexpected message %s %s", m.Type, m.Payload)
				s.mu.Unlock()
			}
		}
		code := websocket.CloseStatus(end())
		for _, s := range streams {
			s.mu.Lock()
			s.ended, s.closeCode = true, code
			s.mu.Unlock()
		}
	}()
}

// e2eSSE runs one subscription over SSE into a stream.
func e2eSSE(t *testing.T, url, token string, s *e2eStream, query string, vars map[string]any) chan struct{} {
	t.Helper()
	sse := graphtest.DialSSE(t, url, token, query, vars)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range sse.Events() {
			switch ev.Event {
			case "next":
				s.next(ev.Data)
			case "complete":
				s.complete()
			default:
				s.mu.Lock()
				s.problem("unexpected SSE event %s %s", ev.Event, ev.Data)
				s.mu.Unlock()
			}
		}
		s.mu.Lock()
		s.ended = true
		s.mu.Unlock()
	}()
	return done
}

// e2eStep is the i-th action of a script valid forever from a freshly opened case,
// mixing events hidden from one side (platform info requests and their replies).
func e2eStep(i int) (role, op string) {
	prelude := [][2]string{{"customer", "respondToResolution"}, {"merchant", "respondToResolution"},
		{"customer", "respondToResolution"}, {"platform", "requestMerchantInfo"}, {"merchant", "respondToResolution"}}
	cycle := [][2]string{{"platform", "requestBuyerInfo"}, {"customer", "respondToResolution"},
		{"merchant", "respondToResolution"}, {"platform", "requestMerchantInfo"}, {"merchant", "respondToResolution"},
		{"customer", "respondToResolution"}}
	s := cycle[0]
	if i < len(prelude) {
		s = prelude[i]
	} else {
		s = cycle[(i-len(prelude))%len(cycle)]
	}
	return s[0], s[1]
}

// e2eAction is one mutation on a case and whether it must succeed.
type e2eAction struct {
	caseKey, token, op, extra string
	refused                   bool
}

// e2ePlan is the action stream: per case, a sequence that must run in order.
func e2ePlan(w *e2eWorld, steps map[string]int) map[string][]e2eAction {
	plan := map[string][]e2eAction{}
	for _, k := range e2eCaseKeys {
		cust, biz := w.party[k][0], w.party[k][1]
		for i := range steps[k] {
			role, op := e2eStep(i)
			tok := w.tok["plat"]
			switch role {
			case "customer":
				tok = w.tok[cust]
			case "merchant":
				tok = w.tok[biz]
				if biz == "b1" && i%4 == 1 {
					tok = w.tok["team"] // a team member acts as the merchant too
				}
			}
			plan[k] = append(plan[k], e2eAction{caseKey: k, token: tok, op: op})
			if k == "A" && i == 3 {
				plan[k] = append(plan[k],
					e2eAction{caseKey: k, token: w.tok[cust], op: "acceptResolution", refused: true},
					e2eAction{caseKey: k, token: w.tok["c2"], op: "respondToResolution", refused: true})
			}
			if k == "B" && i == 2 {
				plan[k] = append(plan[k], e2eAction{caseKey: k, token: w.tok[biz], op: "appealResolution", refused: true})
			}
		}
	}
	if steps["B"] > 0 {
		plan["B"] = append(plan["B"], e2eAction{caseKey: "B", token: w.tok["plat"], op: "decideMerchantWins"})
	}
	if steps["C"] > 0 {
		plan["C"] = append(plan["C"], e2eAction{caseKey: "C", token: w.tok["b1"], op: "acceptResolution"})
	}
	return plan
}

func (a e2eAction) run(ctx context.Context, url, caseID string, n int) error {
	msg := fmt.Sprintf(`, message: "action %d"`, n)
	if a.op == "acceptResolution" || a.op == "decideMerchantWins" {
		msg = ""
	}
	doc := `mutation($id: ID!) { ` + a.op + `(input: {resolutionId: $id` + msg + `}) { event { position } userErrors { code message } } }`
	r, err := graphtest.Post(ctx, url, a.token, doc, map[string]any{"id": caseID})
	if err != nil {
		return err
	}
	refused := len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"userErrors":[]`)
	if refused != a.refused {
		return fmt.Errorf("%s on %s: refused=%v, want %v: %s %+v", a.op, a.caseKey, refused, a.refused, r.Data, r.Errors)
	}
	return nil
}

// e2eRunPlan runs every case's actions in order, the cases concurrently, each action
// through the next process in turn.
func e2eRunPlan(t *testing.T, procs []*e2eProc, w *e2eWorld, plan map[string][]e2eAction, pace time.Duration) {
	t.Helper()
	var turn atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, len(plan))
	for k, actions := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, a := range actions {
				p := procs[int(turn.Add(1))%len(procs)]
				if err := a.run(context.Background(), p.URL, w.cases[k], i); err != nil {
					errc <- fmt.Errorf("via %s: %w", p.name, err)
					return
				}
				if pace > 0 {
					time.Sleep(pace)
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// e2eScenario subscribes on every process as every principal over WebSocket and SSE,
// runs the plan through the processes in turn, and checks what every subscriber got
// against the final state read through the API.
type e2eScenario struct {
	procs   []*e2eProc
	w       *e2eWorld
	streams []*e2eStream
	wsConns []*e2eWS
	sseDone []chan struct{}
}

func e2eSubscribeAll(t *testing.T, procs []*e2eProc, w *e2eWorld, eventCases []string) *e2eScenario {
	t.Helper()
	sc := &e2eScenario{procs: procs, w: w}
	url0 := procs[0].URL
	startCursor := map[string]string{} // principal/case -> cursor of the created event
	for _, pr := range []string{"c1", "c2", "b1", "b2", "team", "plat"} {
		for _, k := range e2eCaseKeys {
			if w.sees(pr, k) {
				_, _, cur := e2eTimeline(t, url0, w.tok[pr], w.cases[k])
				startCursor[pr+"/"+k] = cur[1]
			}
		}
	}
	updAllowed := func(pr string) func(string) bool { return func(k string) bool { return w.sees(pr, k) } }
	newStream := func(name, pr, caseKey string) *e2eStream {
		s := &e2eStream{name: name, principal: pr, caseKey: caseKey, allowed: updAllowed(pr)}
		sc.streams = append(sc.streams, s)
		return s
	}
	for pi, p := range procs {
		merchant := "b1"
		if pi == 2 {
			merchant = "team"
		}
		principals := []string{"c1", merchant, "plat"}
		if pi == 0 {
			principals = append(principals, "c2", "b2")
		}
		for _, pr := range principals {
			// WebSocket: events of each case the principal may see, its case updates,
			// and (for the platform) narrowed updates. On the second process the event
			// subscriptions resume from the created event's cursor.
			c := e2eDialWS(t, p.URL, w.tok[pr])
			sc.wsConns = append(sc.wsConns, c)
			for _, k := range eventCases {
				name := fmt.Sprintf("%s ws %s events %s", p.name, pr, k)
				vars := map[string]any{"id": w.cases[k]}
				if !w.sees(pr, k) {
					if pr != "c1" && pr != "b1" { // one foreign subscription each is enough
						continue
					}
					s := newStream(name+" (foreign)", pr, k)
					s.wantCode = "NOT_FOUND"
					c.subscribe("e"+k, s, e2eEventSub, vars)
					continue
				}
				if pi == 1 {
					vars["after"] = startCursor[pr+"/"+k]
				}
				c.subscribe("e"+k, newStream(name, pr, k), e2eEventSub, vars)
			}
			c.subscribe("u", newStream(fmt.Sprintf("%s ws %s updates", p.name, pr), pr, ""), e2eUpdateSub, nil)
			if pr == "plat" {
				s := newStream(fmt.Sprintf("%s ws plat updates narrowed", p.name), pr, "")
				s.allowed = func(k string) bool { return k == "A" || k == "F" }
				c.subscribe("un", s, e2eUpdateSub, map[string]any{"f": map[string]any{
					"companyId": w.ids["b1"], "resolutionIds": []string{w.cases["A"], w.cases["E"], w.cases["F"]}}})
			}
			c.run()

			if pr == "c2" || pr == "b2" {
				continue
			}
			// SSE: the first two subscribed cases and the updates; on the third process
			// resuming from the created event's cursor.
			for _, k := range eventCases[:min(2, len(eventCases))] {
				vars := map[string]any{"id": w.cases[k]}
				if pi == 2 {
					vars["after"] = startCursor[pr+"/"+k]
				}
				s := newStream(fmt.Sprintf("%s sse %s events %s", p.name, pr, k), pr, k)
				sc.sseDone = append(sc.sseDone, e2eSSE(t, p.URL, w.tok[pr], s, e2eEventSub, vars))
			}
			s := newStream(fmt.Sprintf("%s sse %s updates", p.name, pr), pr, "")
			sc.sseDone = append(sc.sseDone, e2eSSE(t, p.URL, w.tok[pr], s, e2eUpdateSub, nil))
		}
	}
	live := 0
	for _, s := range sc.streams {
		if s.wantCode == "" {
			live++
		}
	}
	waitSubscribed(t, procs, live)
	return sc
}

// check waits until every stream received what it should and compares exactly.
func (sc *e2eScenario) check(t *testing.T) {
	t.Helper()
	w, url := sc.w, sc.procs[0].URL
	type final struct {
		version   int
		positions []int
	}
	finals := map[string]final{} // principal/case
	versions := map[string]int{} // case ID -> final version
	for _, pr := range []string{"c1", "c2", "b1", "b2", "team", "plat"} {
		for _, k := range e2eCaseKeys {
			if w.sees(pr, k) {
				v, pos, _ := e2eTimeline(t, url, w.tok[pr], w.cases[k])
				var after []int
				for _, p := range pos {
					if p > 1 {
						after = append(after, p)
					}
				}
				finals[pr+"/"+k] = final{v, after}
				versions[w.cases[k]] = v
			}
		}
	}
	// What each case's timeline hides from whom: the test must really exercise
	// visibility.
	if a := finals["plat/A"].positions; len(a) == len(finals["c1/A"].positions) || len(a) == len(finals["b1/A"].positions) {
		t.Fatalf("case A's timeline hides nothing from anyone: platform %v, customer %v, merchant %v",
			a, finals["c1/A"].positions, finals["b1/A"].positions)
	}
	caseKey := map[string]string{}
	for k, id := range w.cases {
		caseKey[id] = k
	}

	complete := func(s *e2eStream) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case s.wantCode != "":
			return len(s.codes) > 0
		case s.caseKey != "":
			return len(s.positions) >= len(finals[s.principal+"/"+s.caseKey].positions)
		}
		for _, k := range e2eCaseKeys {
			if s.allowed(k) {
				vs := s.versions[w.cases[k]]
				if len(vs) == 0 || vs[len(vs)-1] < versions[w.cases[k]] {
					return false
				}
			}
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range sc.streams {
		for !complete(s) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(300 * time.Millisecond) // anything extra shows up now

	for _, s := range sc.streams {
		s.mu.Lock()
		for _, p := range s.problems {
			t.Errorf("%s: %s", s.name, p)
		}
		switch {
		case s.wantCode != "":
			if !slices.Equal(s.codes, []string{s.wantCode}) || len(s.positions) > 0 {
				t.Errorf("%s: got codes %v and events %v, want exactly one %s error", s.name, s.codes, s.positions, s.wantCode)
			}
		case s.caseKey != "":
			want := finals[s.principal+"/"+s.caseKey].positions
			if !slices.Equal(s.positions, want) || len(s.codes) > 0 {
				t.Errorf("%s: got %v (errors %v),\nwant %v", s.name, s.positions, s.codes, want)
			}
		default:
			if len(s.codes) > 0 {
				t.Errorf("%s: errors %v", s.name, s.codes)
			}
			for id, vs := range s.versions {
				k := caseKey[id]
				if !s.allowed(k) {
					t.Errorf("%s: got case %s (%q), which it may not see or did not ask for", s.name, id, k)
					continue
				}
				if !slices.IsSorted(vs) || len(slices.Compact(slices.Clone(vs))) != len(vs) {
					t.Errorf("%s: case %s versions not strictly increasing: %v", s.name, k, vs)
				}
			}
			for _, k := range e2eCaseKeys {
				if !s.allowed(k) {
					continue
				}
				vs := s.versions[w.cases[k]]
				if len(vs) == 0 || vs[len(vs)-1] != versions[w.cases[k]] {
					t.Errorf("%s: case %s last version seen %v, want the final %d", s.name, k, vs, versions[w.cases[k]])
				}
			}
		}
		s.mu.Unlock()
	}
}

// stopAll sends SIGTERM to every process with all subscriptions open: each exits 0
// within the grace period, and every live stream ends cleanly (complete, or the
// WebSocket closed with 1001 going away).
func (sc *e2eScenario) stopAll(t *testing.T, grace time.Duration) {
	t.Helper()
	graphtest.CloseIdleConnections()
	sent := make([]time.Time, len(sc.procs))
	for i, p := range sc.procs {
		sent[i] = p.terminate(t)
	}
	for i, p := range sc.procs {
		code, el := p.waitExit(t, sent[i], grace+5*time.Second)
		t.Logf("%s exited with %d %v after SIGTERM", p.name, code, el.Round(time.Millisecond))
		if code != 0 {
			t.Errorf("%s exited with %d", p.name, code)
		}
		if el > grace {
			t.Errorf("%s took %v to exit, more than the %v grace period", p.name, el, grace)
		}
	}
	timeout := time.After(10 * time.Second)
	for _, c := range sc.wsConns {
		select {
		case <-c.done:
		case <-timeout:
			t.Fatal("a WebSocket connection outlived its server")
		}
	}
	for _, d := range sc.sseDone {
		select {
		case <-d:
		case <-timeout:
			t.Fatal("an SSE response outlived its server")
		}
	}
	for _, s := range sc.streams {
		if s.wantCode != "" {
			continue
		}
		s.mu.Lock()
		if !s.completed && s.closeCode != websocket.StatusGoingAway {
			t.Errorf("%s: ended without complete (close code %v) on shutdown", s.name, s.closeCode)
		}
		s.mu.Unlock()
	}
}

// TestE2EFanoutThreeProcesses: three server processes on one PostgreSQL database;
// every subscriber on every process, over WebSocket and SSE, as customer, merchant
// and platform, gets every event it may see exactly once and in order, nothing else,
// and each case's final version; then SIGTERM ends every stream cleanly.
func TestE2EFanoutThreeProcesses(t *testing.T) {
	url := dbtest.PostgresURL(t)
	procs := make([]*e2eProc, 3)
	for i := range procs { // started together: they migrate the empty database concurrently
		procs[i] = e2eLaunch(t, fmt.Sprintf("rc%d", i+1), map[string]string{"DATABASE_URL": url})
	}
	for _, p := range procs {
		p.waitListening(t)
	}
	w := e2eFixtures(t, procs[0].URL)
	sc := e2eSubscribeAll(t, procs, w, []string{"A", "B", "C", "E", "F"})
	t.Logf("%d subscriptions (%d WebSocket connections, %d SSE responses)", len(sc.streams), len(sc.wsConns), len(sc.sseDone))
	e2eRunPlan(t, procs, w, e2ePlan(w, map[string]int{"A": 17, "B": 14, "C": 11, "E": 6, "F": 6}), 0)
	sc.check(t)
	sc.stopAll(t, 5*time.Second)
}

// TestE2ESQLiteSmoke runs the same binary once on SQLite: one process, both
// transports, the same checks, and a clean SIGTERM.
func TestE2ESQLiteSmoke(t *testing.T) {
	p := e2eStart(t, "rc-sqlite", map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "x.db")})
	w := e2eFixtures(t, p.URL)
	sc := e2eSubscribeAll(t, []*e2eProc{p}, w, []string{"A", "B", "F"})
	e2eRunPlan(t, []*e2eProc{p}, w, e2ePlan(w, map[string]int{"A": 12, "B": 8, "C": 2, "E": 3, "F": 4}), 0)
	sc.check(t)
	sc.stopAll(t, 5*time.Second)
}

// TestE2ESIGTERMWithOpenSubscriptions: a process with an open WebSocket and SSE
// subscription exits 0 within the grace period on SIGTERM, and both clients get a
// clean end: complete (or, for the WebSocket, a 1001 close).
func TestE2ESIGTERMWithOpenSubscriptions(t *testing.T) {
	const grace = 4 * time.Second
	p := e2eStart(t, "rc-term", map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "x.db"),
		"SHUTDOWN_GRACE": grace.String()})
	w := e2eFixtures(t, p.URL)
	ws := graphtest.DialWS(t, p.URL, map[string]any{"Authorization": "Bearer " + w.tok["c1"]})
	msgs, end := graphtest.Pump(ws)
	ws.Subscribe("1", e2eEventSub, map[string]any{"id": w.cases["A"]})
	sse := graphtest.DialSSE(t, p.URL, w.tok["b1"], e2eEventSub, map[string]any{"id": w.cases["A"]})
	waitSubscribed(t, []*e2eProc{p}, 2)
	e2eRunPlan(t, []*e2eProc{p}, w, map[string][]e2eAction{"A": {{caseKey: "A", token: w.tok["c1"], op: "respondToResolution"}}}, 0)
	if m := <-msgs; m.Type != "next" {
		t.Fatalf("ws: want the event first, got %s %s", m.Type, m.Payload)
	}
	if ev := sse.Read(10 * time.Second); ev.Event != "next" {
		t.Fatalf("sse: want the event first, got %s %s", ev.Event, ev.Data)
	}

	graphtest.CloseIdleConnections()
	start := time.Now()
	code, el := p.stop(t, grace+5*time.Second)
	if code != 0 || el > grace {
		t.Errorf("exit code %d after %v, want 0 within %v", code, el, grace)
	}
	var wsEnd []string
	for m := range msgs {
		wsEnd = append(wsEnd, m.Type)
	}
	status := websocket.CloseStatus(end())
	if !slices.Equal(wsEnd, []string{"complete"}) && !(len(wsEnd) == 0 && status == websocket.StatusGoingAway) {
		t.Errorf("ws after SIGTERM: messages %v, close %v (%v); want complete, or a 1001 close", wsEnd, status, end())
	}
	var sseEnd []string
	for {
		ev, err := sse.TryRead(grace + 5*time.Second)
		if err != nil {
			if !errors.Is(err, graphtest.ErrStreamEnded) {
				t.Errorf("sse ended with %v", err)
			}
			break
		}
		sseEnd = append(sseEnd, ev.Event)
	}
	if !slices.Equal(sseEnd, []string{"complete"}) {
		t.Errorf("sse after SIGTERM: events %v, want complete", sseEnd)
	}
	t.Logf("exit %d after %v; ws %v close %v; sse %v; clients done after %v", code, el.Round(time.Millisecond),
		wsEnd, status, sseEnd, time.Since(start).Round(time.Millisecond))
}

// TestE2ESIGTERMManyWebSockets: on SIGTERM every one of many WebSocket connections
// gets its subscriptions' complete and a 1001 close before the process exits; none is
// cut off mid-shutdown.
func TestE2ESIGTERMManyWebSockets(t *testing.T) {
	const grace, conns = 5 * time.Second, 300
	p := e2eStart(t, "rc-term-many", map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "x.db"),
		"SHUTDOWN_GRACE": grace.String()})
	w := e2eFixtures(t, p.URL)
	type conn struct {
		msgs <-chan graphtest.WSMessage
		end  func() error
	}
	var cs []conn
	for i := range conns {
		pr := []string{"c1", "b1", "plat"}[i%3]
		ws := graphtest.DialWS(t, p.URL, map[string]any{"Authorization": "Bearer " + w.tok[pr]})
		msgs, end := graphtest.Pump(ws)
		ws.Subscribe("a", e2eEventSub, map[string]any{"id": w.cases["A"]})
		ws.Subscribe("b", e2eEventSub, map[string]any{"id": w.cases["B"]})
		ws.Subscribe("u", e2eUpdateSub, nil)
		cs = append(cs, conn{msgs, end})
	}
	waitSubscribed(t, []*e2eProc{p}, 3*conns)
	graphtest.CloseIdleConnections()
	code, el := p.stop(t, grace+5*time.Second)
	if code != 0 || el > grace {
		t.Errorf("exit code %d after %v, want 0 within %v", code, el, grace)
	}
	cut := 0
	var example string
	for i, c := range cs {
		completed := map[string]bool{}
		for m := range c.msgs {
			if m.Type == "complete" {
				completed[m.ID] = true
			}
		}
		status := websocket.CloseStatus(c.end())
		if !(len(completed) == 3 || status == websocket.StatusGoingAway) {
			cut++
			if example == "" {
				example = fmt.Sprintf("connection %d: completed %v, close %v (%v)", i, completed, status, c.end())
			}
		}
	}
	t.Logf("exit %d after %v; %d of %d connections cut off", code, el.Round(time.Millisecond), cut, conns)
	if cut > 0 {
		t.Errorf("%d of %d WebSocket connections ended with neither complete nor a 1001 close on SIGTERM; e.g. %s",
			cut, conns, example)
	}
}

// TestE2ESSEOutlivesReadTimeout: READ_TIMEOUT bounds reading a request, not how long
// a subscription may stream: an SSE (and a WebSocket) subscription older than it still
// gets events.
func TestE2ESSEOutlivesReadTimeout(t *testing.T) {
	p := e2eStart(t, "rc-timeouts", map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "x.db"),
		"READ_TIMEOUT": "1s", "REQUEST_TIMEOUT": "1s", "HEADER_TIMEOUT": "1s"})
	w := e2eFixtures(t, p.URL)
	ws := graphtest.DialWS(t, p.URL, map[string]any{"Authorization": "Bearer " + w.tok["c1"]})
	msgs, _ := graphtest.Pump(ws)
	ws.Subscribe("1", e2eEventSub, map[string]any{"id": w.cases["A"]})
	sse := graphtest.DialSSE(t, p.URL, w.tok["b1"], e2eEventSub, map[string]any{"id": w.cases["A"]})
	waitSubscribed(t, []*e2eProc{p}, 2)
	time.Sleep(2500 * time.Millisecond)
	e2eRunPlan(t, []*e2eProc{p}, w, map[string][]e2eAction{"A": {{caseKey: "A", token: w.tok["c1"], op: "respondToResolution"}}}, 0)
	select {
	case m := <-msgs:
		if m.Type != "next" {
			t.Errorf("ws 2.5s after subscribing (READ_TIMEOUT=1s): got %s %s, want the event", m.Type, m.Payload)
		}
	case <-time.After(10 * time.Second):
		t.Error("ws: no event")
	}
	ev, err := sse.TryRead(10 * time.Second)
	if err != nil || ev.Event != "next" {
		t.Errorf("sse 2.5s after subscribing (READ_TIMEOUT=1s): got %q %s (%v), want the event", ev.Event, ev.Data, err)
	}
}

// TestE2EMeasure (RC_MEASURE=1, PostgreSQL) measures commit-to-delivery latency with
// 1,000 WebSocket subscribers spread over 3 processes and actions at ~10/s, and the
// memory an idle subscription costs a server process.
func TestE2EMeasure(t *testing.T) {
	if os.Getenv("RC_MEASURE") != "1" {
		t.Skip("measurement: set RC_MEASURE=1 (and TEST_DATABASE_URL)")
	}
	url := dbtest.PostgresURL(t)
	env := map[string]string{"DATABASE_URL": url, "MAX_SUBSCRIPTIONS": "100000", "RATE_LIMIT": "0"}
	procs := make([]*e2eProc, 3)
	for i := range procs {
		procs[i] = e2eStart(t, fmt.Sprintf("rc%d", i+1), env)
	}
	w := e2eFixtures(t, procs[0].URL)

	// Latency: 1,000 subscribers on cases A, B, C, E, F, each its own connection,
	// as the customer, the merchant or the platform, spread over the processes.
	const subscribers = 1000
	var mu sync.Mutex
	var lat, warm []time.Duration
	var warmFrom time.Time // events created after this are past the warm-up
	got := make([]atomic.Int32, subscribers)
	var conns []*graphtest.WS
	for i := range subscribers {
		k := e2eCaseKeys[i%len(e2eCaseKeys)]
		pr := []string{w.party[k][0], w.party[k][1], "plat"}[(i/len(e2eCaseKeys))%3]
		ws := graphtest.DialWS(t, procs[i%3].URL, map[string]any{"Authorization": "Bearer " + w.tok[pr]})
		conns = append(conns, ws)
		msgs, _ := graphtest.Pump(ws)
		ws.Subscribe("1", e2eEventSub, map[string]any{"id": w.cases[k]})
		go func() {
			for m := range msgs {
				now := time.Now()
				var r struct {
					Data struct {
						ResolutionEventAdded struct{ Node struct{ CreatedAt time.Time } }
					}
				}
				if m.Type == "next" && json.Unmarshal(m.Payload, &r) == nil {
					created := r.Data.ResolutionEventAdded.Node.CreatedAt
					mu.Lock()
					lat = append(lat, now.Sub(created))
					if !warmFrom.IsZero() && created.After(warmFrom) {
						warm = append(warm, now.Sub(created))
					}
					mu.Unlock()
					got[i].Add(1)
				}
			}
		}()
	}
	waitSubscribed(t, procs, subscribers)
	// ~10 actions a second for 10 s: replies alternating customer / merchant, visible
	// to all, on random cases, through the processes in turn.
	const actions = 100
	rng := rand.New(rand.NewPCG(1, 2))
	sent := map[string]int{}
	start := time.Now()
	mu.Lock()
	warmFrom = start.Add(time.Second)
	mu.Unlock()
	for i := range actions {
		k := e2eCaseKeys[rng.IntN(len(e2eCaseKeys))]
		tok := w.tok[w.party[k][sent[k]%2]]
		a := e2eAction{caseKey: k, token: tok, op: "respondToResolution"}
		if err := a.run(context.Background(), procs[i%3].URL, w.cases[k], i); err != nil {
			t.Fatal(err)
		}
		sent[k]++
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * 100 * time.Millisecond)))
	}
	want := 0
	for i := range subscribers {
		want += sent[e2eCaseKeys[i%len(e2eCaseKeys)]]
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(lat)
		mu.Unlock()
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	sorted, warmSorted := slices.Clone(lat), slices.Clone(warm)
	mu.Unlock()
	slices.Sort(sorted)
	slices.Sort(warmSorted)
	pct := func(d []time.Duration, q float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, int(q*float64(len(d))))].Round(100 * time.Microsecond)
	}
	t.Logf("latency, commit (createdAt, ms precision) to client receipt, %d subscribers over 3 processes, %d actions in %v:",
		subscribers, actions, time.Since(start).Round(time.Millisecond))
	t.Logf("  all:                 %d deliveries of %d; p50 %v  p90 %v  p99 %v  max %v", len(sorted), want,
		pct(sorted, .5), pct(sorted, .9), pct(sorted, .99), pct(sorted, 1))
	t.Logf("  after the first 1 s: %d deliveries; p50 %v  p90 %v  p99 %v  max %v", len(warmSorted),
		pct(warmSorted, .5), pct(warmSorted, .9), pct(warmSorted, .99), pct(warmSorted, 1))
	for _, p := range procs {
		t.Logf("  %s server-side rc_fanout_lag_seconds: %s", p.name, p.metric("rc_fanout_lag_seconds_count")+" deliveries, sum "+
			p.metric("rc_fanout_lag_seconds_sum")+" s")
	}
	if len(sorted) != want {
		t.Errorf("%d deliveries, want %d", len(sorted), want)
	}
	for _, ws := range conns {
		ws.Conn.Close(websocket.StatusNormalClosure, "")
	}
	waitSubscribedAtMost(t, procs, 0)

	// Memory per idle subscription on one process: RSS before and after 1,000
	// subscriptions, first one per connection, then 1,000 more over 10 connections,
	// then 1,000 SSE responses.
	p := procs[0]
	var gor []string
	settle := func() int64 {
		time.Sleep(2 * time.Second)
		gor = append(gor, p.metric("go_goroutines"))
		return p.vmRSS(t)
	}
	r0 := settle()
	for i := range 1000 {
		ws := graphtest.DialWS(t, p.URL, map[string]any{"Authorization": "Bearer " + w.tok["plat"]})
		ws.Subscribe("1", e2eEventSub, map[string]any{"id": w.cases[e2eCaseKeys[i%5]]})
	}
	waitSubscribed(t, procs[:1], 1000)
	r1 := settle()
	for range 10 {
		ws := graphtest.DialWS(t, p.URL, map[string]any{"Authorization": "Bearer " + w.tok["plat"]})
		for j := range 100 {
			ws.Subscribe(strconv.Itoa(j), e2eEventSub, map[string]any{"id": w.cases[e2eCaseKeys[j%5]]})
		}
	}
	waitSubscribed(t, procs[:1], 2000)
	r2 := settle()
	for i := range 1000 {
		graphtest.DialSSE(t, p.URL, w.tok["plat"], e2eEventSub, map[string]any{"id": w.cases[e2eCaseKeys[i%5]]})
	}
	waitSubscribed(t, procs[:1], 3000)
	r3 := settle()
	mb := func(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
	kb := func(b int64) string { return fmt.Sprintf("%.1f KB", float64(b)/1024/1000) }
	t.Logf("server RSS: idle %s; +1,000 WebSocket connections with 1 subscription each %s (%s each);", mb(r0), mb(r1), kb(r1-r0))
	t.Logf("  +1,000 subscriptions over 10 connections %s (%s each); +1,000 SSE subscriptions %s (%s each)",
		mb(r2), kb(r2-r1), mb(r3), kb(r3-r2))
	t.Logf("  server goroutines at each step (go_goroutines): %v", gor)
}

// metric returns the value of an unlabelled metric from /metrics, or "?".
func (p *e2eProc) metric(name string) string {
	resp, err := http.Get(p.Base + "/metrics")
	if err != nil {
		return "?"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == name {
			return f[1]
		}
	}
	return "?"
}

// waitSubscribedAtMost waits until the processes report at most want subscriptions
// (or a second when they report none).
func waitSubscribedAtMost(t *testing.T, procs []*e2eProc, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		total := 0.0
		for _, p := range procs {
			n := p.subscriptions()
			if n < 0 {
				time.Sleep(time.Second)
				return
			}
			total += n
		}
		if total <= float64(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("servers still report %v subscriptions, want at most %d", total, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

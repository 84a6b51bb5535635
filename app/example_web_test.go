package app_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/auth/oidctest"
)

// The example frontend (examples/web) end to end, issue 13's "Done when": Debian's
// Chromium, driven by playwright-core, loads the built page from one loopback origin; the
// API is on another, in production mode (DEV_MODE=false), so only CORS_ORIGINS lets the
// page in, for HTTP and for the WebSocket. The page signs in with a JWT from the local
// issuer's dev token endpoint, lists the cases waiting on the merchant it signed in as
// (the summary's count, the connection's totalCount, the rows, soonest deadline first),
// opens one, answers the customer (a mutation), and then shows the customer's reply,
// sent by this test through the API, live on the timeline (a subscription), without a
// reload. A page on an origin the API does not allow has its request refused. Twice:
// with documents sent as text, and by their IDs in the trusted-documents manifest
// graphql-codegen wrote, the page opened with trusted=1 against a server with
// PERSISTED_ONLY=true (the script also checks that no document text left the page).
func TestExampleWeb(t *testing.T) {
	web, node, chromium := exampleWebTools(t)
	dist := buildExampleWeb(t, web)
	t.Run("documents as text", func(t *testing.T) { exampleWeb(t, web, node, chromium, dist, false) })
	t.Run("trusted documents", func(t *testing.T) { exampleWeb(t, web, node, chromium, dist, true) })
}

func exampleWeb(t *testing.T, web, node, chromium, dist string, trusted bool) {

	// The page's origin, and one the API does not allow, both serving the built page.
	pageLn, pageOrigin := listenLoopback(t)
	deniedLn, deniedOrigin := listenLoopback(t)
	for _, ln := range []net.Listener{pageLn, deniedLn} {
		srv := &http.Server{Handler: http.FileServer(http.Dir(dist)), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
	}

	const audience = "rc-web-example"
	iss := oidctest.New(t, audience)
	manifestPath := filepath.Join(web, "src", "gql", "persisted-documents.json")
	manifest := loadManifest(t, manifestPath)

	// The data, through the API: a merchant with a team member and a customer who signs
	// in with the issuer, three cases of the customer, two of them waiting on the merchant.
	// A first server creates it; the page's server then runs on the same database in
	// production mode, and with trusted documents on nothing but the page's documents.
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "web.db")
	setup := apptest.Start(t, apptest.Options{Env: map[string]string{"DATABASE_URL": dbURL}})
	w := newWebWorld(t, setup)
	if err := setup.Stop(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"DATABASE_URL":  dbURL,
		"DEV_MODE":      "false", // no loopback exemption: CORS_ORIGINS alone lets the page in
		"CORS_ORIGINS":  pageOrigin,
		"OIDC_ISSUER":   iss.URL,
		"OIDC_AUDIENCE": audience,
		// The trusted-documents manifest graphql-codegen wrote for the page loads (it is
		// validated against the schema at start) and its documents run by ID.
		"PERSISTED_DOCUMENTS": manifestPath,
	}
	if trusted {
		env["PERSISTED_ONLY"] = "true"
	}
	s := apptest.Start(t, apptest.Options{Env: env})
	w.s = s
	staff := iss.Token("idp|staff", time.Hour, oidctest.Claims{"groups": []string{"rc-platform-staff"}, "scope": "rc:read"})
	var v struct{ Viewer struct{ Role string } }
	manifest.run(t, s, staff, "query Viewer ", nil, &v)
	if v.Viewer.Role != "PLATFORM" {
		t.Fatalf("the manifest's Viewer query as staff: %+v", v)
	}
	if trusted { // PERSISTED_ONLY: a free-form document is refused
		if r := s.Do(t, apptest.PlatformToken, `{ viewer { role } }`, nil); r.FirstCode() != "PERSISTED_QUERY_NOT_ALLOWED" {
			t.Fatalf("a free-form query under PERSISTED_ONLY: %s %+v", r.Raw, r.Errors)
		}
	}
	iss.AddIdentity(oidctest.Identity{Subject: "idp|daniel", Name: "Daniel Okafor", Description: "merchant at Lumen Audio"})
	iss.AddIdentity(oidctest.Identity{Subject: "idp|maya", Name: "Maya Chen", Description: "customer"})

	// The API refuses the other origin's preflight (the browser shows the same below).
	if pre := corsRequest(t, s.URL, http.MethodOptions, deniedOrigin, preflightHeaders); pre.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from %s approved", deniedOrigin)
	}

	const mine, theirs = "Could you send a photo of the parcel label?", "Here it is: the label says Canal Street 12."
	q := url.Values{"api": {s.URL}, "issuer": {iss.URL}}
	trustedEnv := "TRUSTED=0"
	if trusted {
		q.Set("trusted", "1")
		trustedEnv = "TRUSTED=1"
	}
	cmd := exec.CommandContext(t.Context(), node, "e2e.mjs")
	cmd.Dir = web
	cmd.Env = append(os.Environ(), trustedEnv,
		"CHROMIUM="+chromium,
		"PAGE_URL="+pageOrigin+"/?"+q.Encode(),
		"DENIED_URL="+deniedOrigin+"/",
		"API_URL="+s.URL,
		"SIGN_IN_SUB=idp|daniel",
		"EXPECT_VIEWER=Daniel Okafor",
		"EXPECT_WAITING=2",
		"CASE_ID="+w.cases[0],
		"ACTION=RESPOND",
		"MESSAGE="+mine,
		"STATUS_AFTER=CUSTOMER_RESPONSE_NEEDED",
		"OTHER_MESSAGE="+theirs,
		"STATUS_LIVE=MERCHANT_RESPONSE_NEEDED",
		"ARTIFACTS_DIR="+t.TempDir(),
	)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var out []string
	acted := false
	deadline := time.After(3 * time.Minute)
read:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break read
			}
			out = append(out, l)
			if l != "ACTED" || acted {
				continue
			}
			acted = true
			// The page's mutation went through: the merchant's message is on the case (asked
			// with the page's own documents, by ID, which every mode runs).
			var c struct{ Resolution struct{ Status string } }
			manifest.run(t, s, apptest.PlatformToken, "query Case(", map[string]any{"id": w.cases[0]}, &c)
			var tl struct {
				Resolution struct {
					Events struct {
						Edges []struct {
							Node struct{ ReporterType, Details string }
						}
					}
				}
			}
			manifest.run(t, s, apptest.PlatformToken, "query Timeline(", map[string]any{"id": w.cases[0], "last": 1}, &tl)
			if e := tl.Resolution.Events.Edges; c.Resolution.Status != "CUSTOMER_RESPONSE_NEEDED" || len(e) != 1 || e[0].Node.ReporterType != "MERCHANT" || e[0].Node.Details != mine {
				t.Errorf("after the page acted the case is %+v, its newest event %+v", c.Resolution, e)
			}
			// The other party acts (with the page's Respond document); the page must show it live.
			var r struct {
				RespondToResolution struct {
					UserErrors []struct{ Code, Message string }
				}
			}
			manifest.run(t, s, w.customerToken, "mutation Respond(", map[string]any{"input": map[string]any{"resolutionId": w.cases[0], "message": theirs}}, &r)
			if ue := r.RespondToResolution.UserErrors; len(ue) > 0 {
				t.Fatalf("the customer's reply: %+v", ue)
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("the browser script did not finish in 3 minutes; it printed:\n%s\n%s", strings.Join(out, "\n"), stderr.String())
		}
	}
	err = cmd.Wait()
	t.Logf("browser script:\n%s", stderr.String())
	if err != nil || !acted || len(out) == 0 || out[len(out)-1] != "1 passed, 0 failed" {
		t.Fatalf("the browser script failed (%v; acted %v); stdout:\n%s", err, acted, strings.Join(out, "\n"))
	}
}

// exampleWebTools returns examples/web, node and chromium, or skips the test when one
// is missing (fails instead under RC_REQUIRE_BROWSER=1, as in CI).
func exampleWebTools(t *testing.T) (web, node, chromium string) {
	t.Helper()
	web, err := filepath.Abs(filepath.Join("..", "examples", "web"))
	if err != nil {
		t.Fatal(err)
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	var missing []string
	if node, err = exec.LookPath("node"); err != nil {
		missing = append(missing, "node is not on PATH (apt-get install -y nodejs)")
	}
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium+" is missing (apt-get install -y chromium)")
	}
	for _, dep := range []string{"playwright-core", "vite"} {
		if _, err := os.Stat(filepath.Join(web, "node_modules", dep, "package.json")); err != nil {
			missing = append(missing, "examples/web/node_modules lacks "+dep+" (cd examples/web && npm ci)")
		}
	}
	if len(missing) > 0 {
		if os.Getenv("RC_REQUIRE_BROWSER") == "1" {
			t.Fatalf("RC_REQUIRE_BROWSER=1 but: %s", strings.Join(missing, "; "))
		}
		t.Skipf("the example frontend's browser test needs: %s (RC_REQUIRE_BROWSER=1 makes this a failure; CI sets it)", strings.Join(missing, "; "))
	}
	return web, node, chromium
}

// buildExampleWeb builds the page from the current sources into a temporary directory
// (vite build; the type check is npm run build's, in CI).
func buildExampleWeb(t *testing.T, web string) string {
	t.Helper()
	dist := t.TempDir()
	cmd := exec.CommandContext(t.Context(), filepath.Join(web, "node_modules", ".bin", "vite"), "build", "--outDir", dist, "--emptyOutDir", "--logLevel", "warn")
	cmd.Dir = web
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vite build: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dist, "index.html")); err != nil {
		t.Fatalf("vite build wrote no index.html: %v", err)
	}
	return dist
}

func listenLoopback(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln, "http://" + ln.Addr().String()
}

// pageManifest is the trusted-documents manifest graphql-codegen wrote for the page.
type pageManifest map[string]string

func loadManifest(t *testing.T, path string) pageManifest {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m pageManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// run sends the document that contains op (e.g. "query Case(") by its ID and decodes
// its data into out; an error fails the test.
func (m pageManifest) run(t *testing.T, s *apptest.Server, token, op string, vars map[string]any, out any) {
	t.Helper()
	var id string
	for k, doc := range m {
		if strings.Contains(doc, op) {
			id = k
		}
	}
	if id == "" {
		t.Fatalf("the manifest has no %q", op)
	}
	r, err := apptest.Send(t.Context(), s.URL, apptest.Request{DocumentID: id, Variables: vars, Token: token})
	if err != nil || len(r.Errors) > 0 || json.Unmarshal(r.Data, out) != nil {
		t.Fatalf("%s by ID %s: %v %s", op, id, err, r.Raw)
	}
}

// webWorld is the example test's data.
type webWorld struct {
	s                           *apptest.Server
	company                     string
	customerToken, companyToken string
	cases                       []string // in the order opened
}

func newWebWorld(t *testing.T, s *apptest.Server) *webWorld {
	t.Helper()
	w := &webWorld{s: s}
	p := apptest.PlatformToken
	w.company = w.data(t, p, `mutation { createCompany(input: {title: "Lumen Audio", route: "lumen-audio"}) { company { id } userErrors { code message } } }`,
		nil, "createCompany", "company", "id")
	user := func(username, name, externalID string) string {
		return w.data(t, p, `mutation($u: String!, $n: String, $x: String) { createUser(input: {username: $u, name: $n, email: "x@example.com", externalId: $x}) {
			user { id } userErrors { code message } } }`, map[string]any{"u": username, "n": name, "x": externalID}, "createUser", "user", "id")
	}
	merchant := user("daniel.okafor", "Daniel Okafor", "idp|daniel")
	customer := user("maya.chen", "Maya Chen", "idp|maya")
	w.data(t, p, `mutation($c: ID!, $u: ID!) { addTeamMember(input: {companyId: $c, userId: $u}) { user { id } userErrors { code message } } }`,
		map[string]any{"c": w.company, "u": merchant}, "addTeamMember", "user", "id")
	token := func(holder string, id string) string {
		return w.data(t, p, `mutation($h: TokenHolderInput!) { createToken(input: {holder: $h, scopes: [READ, MANAGE]}) { token userErrors { code message } } }`,
			map[string]any{"h": map[string]any{holder: id}}, "createToken", "token")
	}
	w.customerToken, w.companyToken = token("userId", customer), token("companyId", w.company)
	for i, issue := range []string{"ITEM_NOT_RECEIVED", "PRODUCT_UNACCEPTABLE", "SIGNIFICANTLY_NOT_AS_DESCRIBED"} {
		pay := w.data(t, p, `mutation($u: ID!, $c: ID!, $t: Int!) { createPayment(input: {userId: $u, companyId: $c, currency: "EUR", totalMinor: $t}) {
			payment { id } userErrors { code message } } }`, map[string]any{"u": customer, "c": w.company, "t": 1000 * (i + 1)}, "createPayment", "payment", "id")
		w.cases = append(w.cases, w.data(t, w.customerToken, `mutation($p: ID!, $i: ResolutionIssue!) { openResolution(input: {paymentId: $p, issue: $i, message: "It went wrong."}) {
			resolution { id } userErrors { code message } } }`, map[string]any{"p": pay, "i": issue}, "openResolution", "resolution", "id"))
	}
	// The third case waits on the customer, not on the merchant.
	w.act(t, w.companyToken, "respondToResolution", w.cases[2], "Which model do you have?")
	return w
}

// act runs a ResolutionMessageInput mutation and fails the test on a refusal.
func (w *webWorld) act(t *testing.T, token, mutation, caseID, message string) {
	t.Helper()
	w.data(t, token, fmt.Sprintf(`mutation($in: ResolutionMessageInput!) { %s(input: $in) { resolution { id } userErrors { code message } } }`, mutation),
		map[string]any{"in": map[string]any{"resolutionId": caseID, "message": message}}, mutation, "resolution", "id")
}

// data runs an operation and returns the string at path under data; a top-level error
// or a userError fails the test.
func (w *webWorld) data(t *testing.T, token, query string, vars map[string]any, path ...string) string {
	t.Helper()
	var out map[string]any
	w.s.MustData(t, token, query, vars, &out)
	if ue, _ := out[path[0]].(map[string]any)["userErrors"].([]any); len(ue) > 0 {
		t.Fatalf("%s: %v", path[0], ue)
	}
	var v any = out
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: no %s in %v", strings.Join(path, "."), p, out)
		}
		v = m[p]
	}
	str, ok := v.(string)
	if !ok {
		t.Fatalf("%s: %v is not a string", strings.Join(path, "."), v)
	}
	return str
}

// README's "Example frontend" commands, run as written (ports moved to free ones): the
// local issuer (go run ./examples/web/devissuer, with ISSUER_ADDR=127.0.0.1:0), the
// server with the README's OIDC settings on a fresh embedded database with its demo
// data (in process, as go run . would start it), and Vite's dev server (npm run dev; the
// block's npm ci is CI's own step). Every identity the issuer offers signs in as the demo
// user or staff it names, and Chromium signs in on the dev server's page as Maya Chen
// and sees her cases waiting on her.
func TestReadmeExampleWeb(t *testing.T) {
	// The block is read and parsed before the tools are looked for: where they are
	// missing (a machine with only Go) the test skips, and the README check still
	// counts the block as read, and still refuses a line this test does not know.
	block := readmeBlock(t, "example-web")
	var issuerCmd, serverCmd, viteCmd string
	for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
		l = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(l), "&"))
		switch {
		case strings.HasPrefix(l, "go run ./examples/web/devissuer"):
			issuerCmd = l
		case strings.HasSuffix(l, " go run ."):
			serverCmd = strings.TrimSuffix(l, " go run .")
		case strings.HasPrefix(l, "cd examples/web && "):
			parts := strings.Split(l, " && ")
			viteCmd = parts[len(parts)-1]
		default:
			t.Fatalf("README's example-web block has a line this test does not know: %q", l)
		}
	}
	if issuerCmd == "" || serverCmd == "" || viteCmd != "npm run dev" {
		t.Fatalf("README's example-web block lacks a command (issuer %q, server %q, vite %q):\n%s", issuerCmd, serverCmd, viteCmd, block)
	}
	web, node, chromium := exampleWebTools(t)

	// The issuer, as the README starts it.
	issOut := startReadmeProcess(t, "..", issuerCmd, "ISSUER_ADDR=127.0.0.1:0")
	m := waitForLine(t, issOut, regexp.MustCompile(`^issuer (http://127\.0\.0\.1:\d+) \(audience ([^)]+)\)`), 2*time.Minute)
	issuerURL, audience := m[1], m[2]

	// The server with the README's settings; the issuer's URL is the one it really has.
	env := map[string]string{"SEED_DEMO": "true"}
	for _, kv := range strings.Fields(serverCmd) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("README's server command %q: %q is not a setting", serverCmd, kv)
		}
		env[k] = v
	}
	if env["OIDC_ISSUER"] != "http://127.0.0.1:9400" || env["OIDC_AUDIENCE"] != audience {
		t.Fatalf("README's server settings %v do not match the issuer's defaults (http://127.0.0.1:9400, audience %s)", env, audience)
	}
	env["OIDC_ISSUER"] = issuerURL
	s := apptest.Start(t, apptest.Options{Env: env})

	// Every identity the issuer offers is who it says.
	var ids struct {
		Identities []struct{ Sub, Name, Description string }
	}
	getJSON(t, issuerURL+"/dev/identities", &ids)
	if len(ids.Identities) < 3 {
		t.Fatalf("the issuer offers %d identities", len(ids.Identities))
	}
	mayaWaiting := -1
	for _, id := range ids.Identities {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		postJSON(t, issuerURL+"/dev/token", map[string]string{"sub": id.Sub}, &tok)
		var v struct {
			Viewer struct {
				Role      string
				User      *struct{ Username, Name string }
				Companies []struct{ Title string }
			}
			ResolutionSummary struct{ WaitingOnMe int }
		}
		s.MustData(t, tok.AccessToken, `{ viewer { role user { username name } companies { title } } resolutionSummary { waitingOnMe } }`, nil, &v)
		switch {
		case strings.HasPrefix(id.Description, "platform"):
			if v.Viewer.Role != "PLATFORM" {
				t.Errorf("%s signs in as %+v", id.Sub, v.Viewer)
			}
		case v.Viewer.User == nil || "demo|"+v.Viewer.User.Username != id.Sub || v.Viewer.User.Name != id.Name:
			t.Errorf("%s (%s) signs in as %+v", id.Sub, id.Name, v.Viewer)
		case strings.HasPrefix(id.Description, "merchant"):
			if len(v.Viewer.Companies) != 1 || !strings.Contains(id.Description, v.Viewer.Companies[0].Title) {
				t.Errorf("%s (%s) acts for %+v", id.Sub, id.Description, v.Viewer.Companies)
			}
		}
		if id.Sub == "demo|maya.chen" {
			mayaWaiting = v.ResolutionSummary.WaitingOnMe
		}
	}
	if mayaWaiting < 1 {
		t.Fatalf("Maya Chen has %d cases waiting on her in the demo data", mayaWaiting)
	}

	// Vite's dev server, as the README starts it, on a free port.
	ln, origin := listenLoopback(t)
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	viteOut := startReadmeProcess(t, web, fmt.Sprintf("%s -- --host 127.0.0.1 --port %d --strictPort", viteCmd, port))
	deadline := time.Now().Add(time.Minute)
	for {
		code, body, err := apptest.Get(t.Context(), origin+"/", nil)
		if err == nil && code == http.StatusOK && strings.Contains(body, `<div id="app">`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Vite's dev server did not serve the page at %s (%d %v); it printed:\n%s", origin, code, err, viteOut)
		}
		time.Sleep(100 * time.Millisecond)
	}

	q := url.Values{"api": {s.URL}, "issuer": {issuerURL}}
	cmd := exec.CommandContext(t.Context(), node, "e2e.mjs")
	cmd.Dir = web
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "PAGE_URL="+origin+"/?"+q.Encode(), "API_URL="+s.URL,
		"SIGN_IN_SUB=demo|maya.chen", "EXPECT_VIEWER=Maya Chen", fmt.Sprintf("EXPECT_WAITING=%d", mayaWaiting),
		"ARTIFACTS_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "1 passed, 0 failed") {
		t.Fatalf("the browser script on Vite's dev server: %v\n%s", err, out)
	}
}

// startReadmeProcess runs a README command line with sh in dir (relative to app/), in a
// process group of its own that is ended with the test; it returns what it prints.
func startReadmeProcess(t *testing.T, dir, line string, env ...string) *apptest.Output {
	t.Helper()
	out := apptest.NewOutput()
	cmd := exec.Command("sh", "-c", "exec "+line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("%s printed:\n%s", line, out)
		}
	})
	return out
}

// waitForLine waits until out has a complete line matching re and returns the match.
func waitForLine(t *testing.T, out *apptest.Output, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		for _, l := range out.Lines() {
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		}
		select {
		case <-out.Written():
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no line matching %s within %s; printed:\n%s", re, timeout, out)
		}
	}
}

func getJSON(t *testing.T, u string, out any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(out) != nil {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
}

func postJSON(t *testing.T, u string, in, out any) {
	t.Helper()
	b, _ := json.Marshal(in)
	resp, err := http.Post(u, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(out) != nil {
		t.Fatalf("POST %s: %s", u, resp.Status)
	}
}

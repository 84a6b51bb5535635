package app_test

// The README's examples, each run for real (see readme_test.go for the rules). Placeholders
// the README writes for IDs ("reso_...", "pay_...", "tok_...") are replaced by real ones,
// http://localhost:8080 by the test server's address, and `go run .` by the server binary
// (apptest.Binary: the same main package, built once per run).

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/jackc/pgx/v5"

	"resolutioncenter/app"
	"resolutioncenter/app/apptest"
	"resolutioncenter/auth/oidctest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/webhook"
	"resolutioncenter/webhook/webhooktest"
)

// envRequireTools is the variable .ci/run sets: then a README example whose tool (node
// and e2e's packages, curl, createdb, openssl) is missing fails instead of skipping.
const envRequireTools = "RC_REQUIRE_BROWSER"

// requireTool returns the path of the command name, or skips the test saying what is
// missing (fails under RC_REQUIRE_BROWSER=1).
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missingTool(t, fmt.Sprintf("%s is not installed (README example needs it)", name))
	}
	return p
}

func missingTool(t *testing.T, why string) {
	t.Helper()
	if os.Getenv(envRequireTools) == "1" {
		t.Fatalf("%s, and %s=1 requires it", why, envRequireTools)
	}
	t.Skipf("%s; skipped on this machine (CI sets %s=1 and runs it)", why, envRequireTools)
}

// requireNode returns node's path and e2e/node_modules (absolute), or skips (fails under
// RC_REQUIRE_BROWSER=1) when node or the packages the README's snippets import are
// missing.
func requireNode(t *testing.T, packages ...string) (string, string) {
	t.Helper()
	node := requireTool(t, "node")
	mods, err := filepath.Abs("../e2e/node_modules")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join(mods, p, "package.json")); err != nil {
			missingTool(t, fmt.Sprintf("e2e/node_modules/%s is missing (run `cd e2e && npm ci`)", p))
		}
	}
	return node, mods
}

// nodeScript writes script as an ES module in a temporary directory whose node_modules
// is e2e's, and returns the command that runs it.
func nodeScript(t *testing.T, script string, packages ...string) *exec.Cmd {
	t.Helper()
	node, mods := requireNode(t, packages...)
	dir := t.TempDir()
	if err := os.Symlink(mods, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "readme.mjs"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "readme.mjs")
	cmd.Dir = dir
	cmd.Env = os.Environ()
	return cmd
}

// readmeURLs points a README command at a test server: http://localhost:8080 and
// ws://localhost:8080 become base's.
func readmeURLs(s, base string) string {
	s = strings.ReplaceAll(s, "http://localhost:8080", base)
	return strings.ReplaceAll(s, "ws://localhost:8080", "ws"+strings.TrimPrefix(base, "http"))
}

var goRunRE = regexp.MustCompile(`\bgo run \.(\s|$)`)

// readmeGoRun replaces `go run .` by the server binary.
func readmeGoRun(t *testing.T, s string) string {
	t.Helper()
	if !goRunRE.MatchString(s) {
		t.Fatalf("no `go run .` in %q", s)
	}
	return goRunRE.ReplaceAllString(s, apptest.Binary(t)+"$1")
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// readmeCommand is one line of a shell block: the command and its comment.
type readmeCommand struct{ Cmd, Comment string }

// readmeCommands splits a shell block into commands (a trailing backslash continues a
// line; "# ..." after the command is its comment).
func readmeCommands(block string) []readmeCommand {
	var out []readmeCommand
	cur := ""
	for _, l := range strings.Split(block, "\n") {
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\")
			continue
		}
		l = cur + l
		cur = ""
		if strings.TrimSpace(l) == "" {
			continue
		}
		c := readmeCommand{Cmd: l}
		if i := strings.Index(l, "  #"); i >= 0 {
			c.Cmd, c.Comment = l[:i], strings.TrimSpace(l[i+3:])
		}
		c.Cmd = strings.TrimSpace(c.Cmd)
		out = append(out, c)
	}
	return out
}

// readmeOp is one operation of a GraphQL block, with the roles its comment names.
type readmeOp struct {
	Roles []string
	Doc   string
}

// readmeOps splits a GraphQL block into its operations: each starts on a line at the
// left margin with "{", "query", "mutation" or "subscription"; a "# customer" (or
// "# customer, merchant or platform: ...") comment before one names who runs it.
func readmeOps(t *testing.T, block string) []readmeOp {
	t.Helper()
	var ops []readmeOp
	var roles []string
	for _, l := range strings.Split(block, "\n") {
		switch {
		case strings.HasPrefix(l, "#"):
			who, _, _ := strings.Cut(strings.TrimPrefix(l, "#"), ":")
			roles = nil
			for _, w := range strings.FieldsFunc(who, func(r rune) bool { return r == ',' || r == ' ' }) {
				if w == "customer" || w == "merchant" || w == "platform" {
					roles = append(roles, w)
				}
			}
		case strings.HasPrefix(l, "{") || strings.HasPrefix(l, "query") || strings.HasPrefix(l, "mutation") || strings.HasPrefix(l, "subscription"):
			ops = append(ops, readmeOp{Roles: roles, Doc: l + "\n"})
			roles = nil
		case strings.TrimSpace(l) == "":
		default:
			if len(ops) == 0 {
				t.Fatalf("a GraphQL block starts with %q", l)
			}
			ops[len(ops)-1].Doc += l + "\n"
		}
	}
	if len(ops) == 0 {
		t.Fatalf("no operation in the GraphQL block:\n%s", block)
	}
	return ops
}

// runDoc runs a README operation as token at url and requires data, no errors and no
// userErrors anywhere in it; it returns the data.
func runDoc(t *testing.T, url, token, doc string) json.RawMessage {
	t.Helper()
	r := apptest.Query(t, url, token, doc, nil)
	if r.Status != 200 || len(r.Errors) > 0 || !r.HasData() {
		t.Fatalf("the README's operation answered %d %s\n%s", r.Status, apptest.Trunc(r.Raw, 800), doc)
	}
	var v any
	if err := json.Unmarshal(r.Data, &v); err != nil {
		t.Fatal(err)
	}
	if ue := userErrorsIn(v); len(ue) > 0 {
		t.Fatalf("the README's operation was refused: %v\n%s", ue, doc)
	}
	return r.Data
}

func userErrorsIn(v any) []any {
	var out []any
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if l, ok := e.([]any); ok && k == "userErrors" {
				out = append(out, l...)
			} else {
				out = append(out, userErrorsIn(e)...)
			}
		}
	case []any:
		for _, e := range x {
			out = append(out, userErrorsIn(e)...)
		}
	}
	return out
}

// bgProc is a command of a README block running in the background, in a process group
// of its own (a shell and what it starts), stopped with SIGTERM when the test ends.
type bgProc struct {
	Name     string
	Base     string // the server's root once it listens (waitListening)
	Out, Err *apptest.Output
	cmd      *exec.Cmd
	done     chan struct{}
}

func startBG(t *testing.T, name string, cmd *exec.Cmd) *bgProc {
	t.Helper()
	p := &bgProc{Name: name, Out: apptest.NewOutput(), Err: apptest.NewOutput(), cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Out, p.Err
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("output of %s:\n%s\n%s", name, tailOf(p.Out.String()), tailOf(p.Err.String()))
		}
	})
	return p
}

func tailOf(s string) string {
	if len(s) > 6000 {
		return "..." + s[len(s)-6000:]
	}
	return s
}

// stop ends the process group: SIGTERM, and SIGKILL 20 s later.
func (p *bgProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// waitFor waits until the output matches re, calling tick (when not nil) every 250 ms
// meanwhile, and returns the match; it fails when the process exits first or after
// timeout.
func (p *bgProc) waitFor(t *testing.T, re *regexp.Regexp, timeout time.Duration, tick func()) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(p.Out.String() + p.Err.String()); m != nil {
			return m
		}
		select {
		case <-p.done:
			if m := re.FindStringSubmatch(p.Out.String() + p.Err.String()); m != nil {
				return m
			}
			t.Fatalf("%s exited before printing %s:\n%s\n%s", p.Name, re, tailOf(p.Out.String()), tailOf(p.Err.String()))
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %s within %s:\n%s\n%s", p.Name, re, timeout, tailOf(p.Out.String()), tailOf(p.Err.String()))
		}
		if tick != nil {
			tick()
		}
	}
}

var listeningLine = regexp.MustCompile(`listening on (http://\S+)`)

// serverEnv is the environment of a server started from a README command: only what the
// tools need, the variables of the test, and ADDR on a free loopback port (README's
// :8080 may be taken); everything else at the server's defaults, as README shows.
func serverEnv(extra ...string) []string {
	env := []string{"ADDR=127.0.0.1:0"}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOTRACEBACK"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if v, ok := os.LookupEnv("GORACE"); ok {
		env = append(env, "GORACE="+v)
	} else {
		env = append(env, "GORACE=atexit_sleep_ms=0")
	}
	return append(env, extra...)
}

// startServerScript runs a README command that starts the server (with `go run .`
// replaced by the binary) with sh in dir, and waits until it listens.
func startServerScript(t *testing.T, name, dir, script string, extraEnv ...string) *bgProc {
	t.Helper()
	cmd := exec.Command("sh", "-c", readmeGoRun(t, script))
	cmd.Dir = dir
	cmd.Env = serverEnv(extraEnv...)
	p := startBG(t, name, cmd)
	p.Base = p.waitFor(t, listeningLine, time.Minute, nil)[1]
	return p
}

// demoTokens reads the tokens a server or `seed -demo` printed: customer, merchant,
// platform.
func demoTokens(t *testing.T, out string) map[string]string {
	t.Helper()
	toks := map[string]string{}
	for _, m := range tokenLine.FindAllStringSubmatch(out, -1) {
		toks[m[1]] = m[2]
	}
	if len(toks) != 3 {
		t.Fatalf("no customer, merchant and platform tokens printed:\n%s", out)
	}
	return toks
}

// TestReadmeQuickStart runs the quick start: `go run .` (the server binary, as the go
// tool would build it, in an empty directory, with the defaults) serves on the default
// address (:8080; the test moves it to a free port) with the embedded SQLite file,
// seeds the demo data and prints the three tokens and a sample query, which answers;
// GraphiQL is at /. `go test ./...` is the suite this test belongs to, so it is not run
// from here (it would run itself): the test checks it names the module's packages and
// the variable the PostgreSQL tests read (TestReadmeTestCommand runs the same command
// form on one package).
func TestReadmeQuickStart(t *testing.T) {
	cmds := readmeCommands(readmeBlock(t, "quick-start"))
	if len(cmds) != 2 || cmds[0].Cmd != "go run ." || cmds[1].Cmd != "go test ./..." {
		t.Fatalf("the quick start is %+v; this test knows `go run .` and `go test ./...`", cmds)
	}
	cfg, err := app.ParseConfig("serve", nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cmds[0].Comment, "on "+cfg.Addr+" ") {
		t.Errorf("the quick start says %q; the default address is %s", cmds[0].Comment, cfg.Addr)
	}
	dir := t.TempDir()
	p := startServerScript(t, "go run .", dir, cmds[0].Cmd)
	if _, err := os.Stat(filepath.Join(dir, "data", "resolution-center.db")); err != nil {
		t.Errorf("the embedded database is not data/resolution-center.db: %v", err)
	}
	toks := demoTokens(t, p.Out.String())
	sample := regexp.MustCompile(`\{ resolution\(id: "reso_[0-9a-z]+"\) \{.*\} \}`).FindString(p.Out.String())
	if sample == "" {
		t.Fatalf("no sample query printed:\n%s", p.Out.String())
	}
	var data struct{ Resolution struct{ Status string } }
	apptest.MustQuery(t, p.Base+"/graphql", toks["customer"], sample, nil, &data)
	if data.Resolution.Status == "" {
		t.Error("the sample query answers no case")
	}
	if code, body, err := apptest.Get(t.Context(), p.Base+"/", nil); err != nil || code != 200 || !strings.Contains(body, "graphiql") {
		t.Errorf("GraphiQL at /: %d %v", code, err)
	}

	if !strings.Contains(cmds[1].Comment, dbtest.EnvPostgres) {
		t.Errorf("the quick start's test line says %q; the PostgreSQL tests read %s", cmds[1].Comment, dbtest.EnvPostgres)
	}
	if _, err := os.Stat("../go.mod"); err != nil {
		t.Errorf("`go test ./...` from the repository's root: %v", err)
	}
}

// TestReadmeTestCommand runs README's PostgreSQL test command as written, but on one
// small package and with -run '^$' in place of ./... (the whole suite is what runs this
// test): the go tool accepts its flags and the variable is the one dbtest reads.
func TestReadmeTestCommand(t *testing.T) {
	block := readmeBlock(t, "test-postgres")
	m := regexp.MustCompile(`^(\w+)='([^']+)' (go test .*)\./\.\.\.$`).FindStringSubmatch(strings.TrimSpace(block))
	if m == nil {
		t.Fatalf("the test command is %q; this test knows VAR='url' go test [flags] ./...", block)
	}
	if m[1] != dbtest.EnvPostgres {
		t.Errorf("the command sets %s; the tests read %s", m[1], dbtest.EnvPostgres)
	}
	if u, err := url.Parse(m[2]); err != nil || u.Scheme != "postgres" {
		t.Errorf("%s=%q is not a PostgreSQL URL: %v", m[1], m[2], err)
	}
	requireTool(t, "go")
	cmd := exec.CommandContext(t.Context(), "sh", "-c", strings.TrimSuffix(strings.TrimSpace(block), "./...")+"-count=1 -run '^$' ./ids")
	cmd.Dir = ".."
	cmd.Env = os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "resolutioncenter/ids") {
		t.Fatalf("the README's test command on ./ids: %v\n%s", err, out)
	}
}

// TestReadmePostgres runs "Running on PostgreSQL" against TEST_DATABASE_URL's server:
// createdb (with PGHOST and friends from that URL, and a database name of its own), then
// the server command as written; it serves on PostgreSQL and seeds nothing, so `seed
// -demo` (which refuses a database with data) then works, and its tokens answer.
func TestReadmePostgres(t *testing.T) {
	cmds := readmeCommands(readmeBlock(t, "postgres-start"))
	base := os.Getenv(dbtest.EnvPostgres)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s", dbtest.EnvPostgres)
	}
	requireTool(t, "createdb")
	requireTool(t, "openssl")
	if len(cmds) != 2 || !strings.HasPrefix(cmds[0].Cmd, "createdb ") {
		t.Fatalf("the PostgreSQL commands are %+v; this test knows createdb NAME, then the server", cmds)
	}
	readmeDB := strings.TrimPrefix(cmds[0].Cmd, "createdb ")
	m := regexp.MustCompile(`DATABASE_URL='([^']+)'`).FindStringSubmatch(cmds[1].Cmd)
	if m == nil {
		t.Fatalf("the server command %q sets no DATABASE_URL='...'", cmds[1].Cmd)
	}
	readmeURL, err := url.Parse(m[1])
	if err != nil || readmeURL.Path != "/"+readmeDB {
		t.Fatalf("DATABASE_URL %q does not name the database createdb made (%s): %v", m[1], readmeDB, err)
	}
	testURL, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "rc_test_readme_" + hex.EncodeToString(b[:])
	dbURL := *testURL
	dbURL.Path, dbURL.RawQuery = "/"+name, readmeURL.RawQuery
	t.Cleanup(func() { // after the server stopped (cleanups run last first)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})

	create := exec.CommandContext(t.Context(), "sh", "-c", "createdb "+name)
	pw, _ := testURL.User.Password()
	create.Env = append(os.Environ(), "PGHOST="+testURL.Hostname(), "PGPORT="+testURL.Port(), "PGUSER="+testURL.User.Username(), "PGPASSWORD="+pw)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("createdb: %v\n%s", err, out)
	}
	p := startServerScript(t, "server on PostgreSQL", t.TempDir(), strings.Replace(cmds[1].Cmd, m[1], dbURL.String(), 1))
	if !strings.Contains(p.Out.String(), "engine postgres") {
		t.Errorf("the server does not say it runs on PostgreSQL:\n%s", p.Out.String())
	}
	if code, body, err := apptest.Get(t.Context(), p.Base+"/readyz", nil); err != nil || code != 200 {
		t.Errorf("/readyz: %d %s %v", code, body, err)
	}
	seed := exec.CommandContext(t.Context(), apptest.Binary(t), "seed", "-demo")
	seed.Env = serverEnv("DATABASE_URL=" + dbURL.String())
	out, err := seed.CombinedOutput()
	if err != nil {
		t.Fatalf("seed -demo after the first start (the server must have seeded nothing): %v\n%s", err, out)
	}
	toks := demoTokens(t, string(out))
	var data struct{ Viewer struct{ Role string } }
	apptest.MustQuery(t, p.Base+"/graphql", toks["customer"], `{ viewer { role } }`, nil, &data)
	if data.Viewer.Role != "USER" {
		t.Errorf("the demo customer is %q", data.Viewer.Role)
	}
}

// TestReadmeSignIn runs the sign-in setup: the server started as written, trusting a
// local issuer (auth/oidctest) in place of the README's provider; the user created as
// the platform (the demo's platform token); a JWT with the README's claims (iss the
// local issuer's, exp an hour ahead) sent with the README's curl command, which answers
// exactly what the README shows.
func TestReadmeSignIn(t *testing.T) {
	start := readmeBlock(t, "signin-start")
	createUser := readmeBlock(t, "signin-user")
	claimsJSON := readmeBlock(t, "signin-claims")
	request := readmeBlock(t, "signin-request")
	answer := readmeBlock(t, "signin-answer")
	requireTool(t, "curl")

	var claims map[string]any
	if err := json.Unmarshal([]byte(claimsJSON), &claims); err != nil {
		t.Fatalf("the claims do not parse: %v", err)
	}
	issuer, _ := claims["iss"].(string)
	audience, _ := claims["aud"].(string)
	sub, _ := claims["sub"].(string)
	if issuer == "" || audience == "" || sub == "" {
		t.Fatalf("the claims lack iss, aud or sub: %v", claims)
	}
	if !strings.Contains(start, "OIDC_ISSUER="+issuer+" ") || !strings.Contains(start, "OIDC_AUDIENCE="+audience+" ") {
		t.Errorf("the start command does not trust the claims' issuer %s and audience %s: %s", issuer, audience, start)
	}
	iss := oidctest.New(t, audience)
	p := startServerScript(t, "server with OIDC", t.TempDir(), strings.ReplaceAll(strings.TrimSpace(start), issuer, iss.URL))
	platform := demoTokens(t, p.Out.String())["platform"]

	ops := readmeOps(t, createUser)
	if len(ops) != 1 || len(ops[0].Roles) != 1 || ops[0].Roles[0] != "platform" {
		t.Fatalf("the user block is %+v; want one operation for the platform", ops)
	}
	if !strings.Contains(ops[0].Doc, `externalId: "`+sub+`"`) {
		t.Errorf("createUser does not give the claims' sub %q as externalId", sub)
	}
	runDoc(t, p.Base+"/graphql", platform, ops[0].Doc)

	c := oidctest.Claims{}
	for k, v := range claims {
		c[k] = v
	}
	c["iss"], c["iat"], c["exp"] = iss.URL, time.Now().Unix(), time.Now().Add(time.Hour).Unix()
	cmd := exec.CommandContext(t.Context(), "sh", "-c", readmeURLs(request, p.Base))
	cmd.Env = append(os.Environ(), "JWT="+iss.Token(sub, time.Hour, c))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's curl command: %v\n%s", err, out)
	}
	var got, want any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("the curl command answered %s", out)
	}
	if err := json.Unmarshal([]byte(answer), &want); err != nil {
		t.Fatalf("the README's answer does not parse: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the curl command answered\n  %s\nthe README shows\n  %s", out, strings.TrimSpace(answer))
	}
}

// TestReadmeCORSPreflight runs the CORS section's preflight: in development mode (the
// test servers' default) a page on http://localhost:5173 is approved with the headers
// it asked for; in production the same preflight answers 403, until CORS_ORIGINS lists
// the origin.
func TestReadmeCORSPreflight(t *testing.T) {
	block := readmeBlock(t, "cors-preflight")
	requireTool(t, "curl")
	run := func(base string) string {
		t.Helper()
		out, err := exec.CommandContext(t.Context(), "sh", "-c", readmeURLs(block, base)).CombinedOutput()
		if err != nil {
			t.Fatalf("the README's curl command: %v\n%s", err, out)
		}
		return strings.ToLower(string(out))
	}
	dev := apptest.Start(t, apptest.Options{})
	out := run(dev.Base)
	for _, want := range []string{"http/1.1 204", "access-control-allow-origin: http://localhost:5173", "access-control-allow-headers: authorization,content-type"} {
		if !strings.Contains(out, want) {
			t.Errorf("development mode: the preflight's answer lacks %q:\n%s", want, out)
		}
	}
	prod := apptest.Start(t, apptest.Options{Env: map[string]string{"DEV_MODE": "false"}})
	if out := run(prod.Base); !strings.Contains(out, "http/1.1 403") || strings.Contains(out, "access-control-allow-origin") {
		t.Errorf("production without CORS_ORIGINS: the preflight answered\n%s", out)
	}
	listed := apptest.Start(t, apptest.Options{Env: map[string]string{"DEV_MODE": "false", "CORS_ORIGINS": "http://localhost:5173"}})
	if out := run(listed.Base); !strings.Contains(out, "http/1.1 204") || !strings.Contains(out, "access-control-allow-origin: http://localhost:5173") {
		t.Errorf("production with the origin in CORS_ORIGINS: the preflight answered\n%s", out)
	}
}

// TestReadmeAPIExamples runs the API's examples on both engines, on one server each:
// listing and revoking tokens, "waiting on me" as each role, the three actions as their
// roles, the two subscription clients (graphql-ws in node, curl over SSE) receiving a
// live event, a webhook endpoint registered, and the two receivers (Go and the
// standardwebhooks package) verifying a real delivery.
func TestReadmeAPIExamples(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d, apptest.Options{Env: fastWebhooks})
		cast := dbtest.MustCast(t, d)
		who := map[string]string{"customer": cast.CustomerToken, "merchant": cast.CompanyToken, "platform": cast.PlatformToken}

		t.Run("tokens", func(t *testing.T) {
			ops := readmeOps(t, readmeBlock(t, "tokens"))
			if len(ops) != 2 {
				t.Fatalf("the tokens block has %d operations, want the list and the revocation", len(ops))
			}
			fresh := dbtest.MustToken(t, d, db.TokenUser, cast.Customer.ID, true)
			var list struct {
				Tokens struct {
					Nodes []struct {
						ID      string
						Current bool
					}
				}
			}
			if err := json.Unmarshal(runDoc(t, s.URL, cast.CustomerToken, ops[0].Doc), &list); err != nil {
				t.Fatal(err)
			}
			// Newest first: the first token that is not the caller's is the fresh one.
			id := ""
			for _, n := range list.Tokens.Nodes {
				if !n.Current && id == "" {
					id = n.ID
				}
			}
			if len(list.Tokens.Nodes) != 3 || id == "" {
				t.Fatalf("the customer's tokens: %+v", list.Tokens.Nodes)
			}
			var rev struct {
				RevokeToken struct {
					Token struct{ ID, RevokedAt string }
				}
			}
			if err := json.Unmarshal(runDoc(t, s.URL, cast.CustomerToken, replaceOnce(t, ops[1].Doc, `"tok_..."`, `"`+id+`"`)), &rev); err != nil {
				t.Fatal(err)
			}
			if rev.RevokeToken.Token.ID != id || rev.RevokeToken.Token.RevokedAt == "" {
				t.Fatalf("revokeToken answered %+v", rev)
			}
			if r := s.Do(t, fresh, `{ viewer { role } }`, nil); r.FirstCode() != "UNAUTHENTICATED" {
				t.Errorf("the revoked token still works: %s", r.Raw)
			}
		})

		t.Run("waiting-on-me", func(t *testing.T) {
			ops := readmeOps(t, readmeBlock(t, "waiting-on-me"))
			if len(ops) != 1 || strings.Join(ops[0].Roles, " ") != "customer merchant platform" {
				t.Fatalf("the block is %+v; want one query for the customer, the merchant or the platform", ops)
			}
			now := dbtest.Now()
			onMerchant := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, now).Case.ID
			onCustomer := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, now).Case.ID
			dbtest.MustApply(t, d, onCustomer, dispute.ActorMerchant, dispute.ActionRequestMoreInfo, "Which address?", now)
			onPlatform := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, now).Case.ID
			dbtest.MustApply(t, d, onPlatform, dispute.ActorPlatform, dispute.ActionRequestMerchantInfo, "Proof?", now)
			dbtest.MustApply(t, d, onPlatform, dispute.ActorMerchant, dispute.ActionRespond, "Attached.", now)
			for role, want := range map[string]string{"customer": onCustomer, "merchant": onMerchant, "platform": onPlatform} {
				var out struct {
					Resolutions struct {
						TotalCount int
						Edges      []struct{ Node struct{ ID, Status string } }
					}
					ResolutionSummary struct{ WaitingOnMe int }
				}
				if err := json.Unmarshal(runDoc(t, s.URL, who[role], ops[0].Doc), &out); err != nil {
					t.Fatal(err)
				}
				ids := []string{}
				for _, e := range out.Resolutions.Edges {
					ids = append(ids, e.Node.ID)
				}
				if out.Resolutions.TotalCount != len(ids) || out.ResolutionSummary.WaitingOnMe != len(ids) || !strings.Contains(strings.Join(ids, " "), want) {
					t.Errorf("%s: waiting on me %v (totalCount %d, summary %d), want %s among them", role, ids, out.Resolutions.TotalCount, out.ResolutionSummary.WaitingOnMe, want)
				}
			}
		})

		t.Run("acting", func(t *testing.T) {
			ops := readmeOps(t, readmeBlock(t, "acting"))
			if len(ops) != 3 || ops[0].Roles[0] != "customer" || ops[1].Roles[0] != "merchant" || ops[2].Roles[0] != "platform" {
				t.Fatalf("the block is %+v; want a customer's, a merchant's and a platform's mutation", ops)
			}
			pay := cast.MustPayment(t, d)
			var opened struct {
				OpenResolution struct {
					Resolution struct {
						ID      string
						Version int
					}
				}
			}
			if err := json.Unmarshal(runDoc(t, s.URL, who["customer"], replaceOnce(t, ops[0].Doc, `"pay_..."`, `"`+pay.ID+`"`)), &opened); err != nil {
				t.Fatal(err)
			}
			caseID := opened.OpenResolution.Resolution.ID
			if v := fmt.Sprintf("expectedVersion: %d", opened.OpenResolution.Resolution.Version); !strings.Contains(ops[1].Doc, v) {
				t.Errorf("the merchant's example does not say %s, the version of the case just opened", v)
			}
			runDoc(t, s.URL, who["merchant"], replaceOnce(t, ops[1].Doc, `"reso_..."`, `"`+caseID+`"`))
			other := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
			runDoc(t, s.URL, who["platform"], replaceOnce(t, ops[2].Doc, `"reso_..."`, `"`+other+`"`))
		})

		// A platform's chargeback record adds an event to a case's timeline each time.
		caseID := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
		addEvent := func() {
			r := s.Do(t, apptest.PlatformToken, chargeback, map[string]any{"id": caseID, "d": "README"})
			if len(r.Errors) > 0 {
				t.Errorf("chargeback: %s", r.Raw)
			}
		}

		t.Run("subscribe-graphql-ws", func(t *testing.T) {
			snippet := readmeBlock(t, "subscribe-graphql-ws")
			script := "const token = process.env.TOKEN;\n" + readmeURLs(replaceOnce(t, snippet, `"reso_..."`, `"`+caseID+`"`), s.Base)
			cmd := nodeScript(t, script, "graphql-ws", "ws")
			cmd.Env = append(cmd.Env, "TOKEN="+cast.CustomerToken)
			p := startBG(t, "node (graphql-ws)", cmd)
			p.waitFor(t, regexp.MustCompile(`resolutionEventAdded`), 30*time.Second, addEvent)
			if e := p.Err.String(); e != "" {
				t.Errorf("the snippet wrote errors: %s", e)
			}
		})

		t.Run("subscribe-sse", func(t *testing.T) {
			block := readmeBlock(t, "subscribe-sse")
			requireTool(t, "curl")
			cmd := exec.Command("sh", "-c", readmeURLs(replaceOnce(t, block, `\"reso_...\"`, `\"`+caseID+`\"`), s.Base))
			cmd.Env = append(os.Environ(), "TOKEN="+cast.CustomerToken)
			p := startBG(t, "curl (SSE)", cmd)
			p.waitFor(t, regexp.MustCompile(`event: next\ndata: \{"data":\{"resolutionEventAdded":\{"cursor":"[^"]+","node":\{"action":"[A-Z_]+"\}\}\}\}`), 30*time.Second, addEvent)
		})

		t.Run("webhook-endpoint", func(t *testing.T) {
			ops := readmeOps(t, readmeBlock(t, "webhook-endpoint"))
			if len(ops) != 1 {
				t.Fatalf("%d operations", len(ops))
			}
			// As the merchant of a company without cases: nothing is ever sent to the
			// README's example.com address.
			var out struct {
				CreateWebhookEndpoint struct {
					Endpoint struct{ ID string }
					Secret   string
				}
			}
			if err := json.Unmarshal(runDoc(t, s.URL, cast.OtherCompanyToken, ops[0].Doc), &out); err != nil {
				t.Fatal(err)
			}
			if out.CreateWebhookEndpoint.Endpoint.ID == "" || !strings.HasPrefix(out.CreateWebhookEndpoint.Secret, "whsec_") {
				t.Fatalf("createWebhookEndpoint answered %+v", out)
			}
			s.MustData(t, cast.OtherCompanyToken, `mutation($id: ID!) { deleteWebhookEndpoint(input: {id: $id}) { deletedId } }`,
				map[string]any{"id": out.CreateWebhookEndpoint.Endpoint.ID}, nil)
		})

		t.Run("webhook-receivers", func(t *testing.T) {
			goVerify := readmeBlock(t, "webhook-verify-go")
			jsVerify := readmeBlock(t, "webhook-verify-node")
			rcv := webhooktest.Start(t)
			_, secret := mustEndpoint(t, s, cast.CompanyToken, rcv.URL, nil)
			rcv.SetSecrets(secret)
			pay := cast.MustPayment(t, d)
			opened := act(t, s, cast.CustomerToken, "openResolution", map[string]any{"paymentId": pay.ID, "issue": "ITEM_NOT_RECEIVED", "message": "Never came."})
			var dl webhooktest.Delivery
			for dl.ID == "" {
				for _, x := range rcv.WaitAccepted(t, 1, 20*time.Second) {
					if x.CaseID() == opened {
						dl = x
					}
				}
				if dl.ID == "" {
					time.Sleep(50 * time.Millisecond)
				}
			}
			// The payload's top-level fields are the ones the README lists.
			for k := range dl.Payload {
				if !strings.Contains("id type timestamp company_id data previous_attributes", k) {
					t.Errorf("the payload has %q, which the README does not list", k)
				}
			}
			if dl.Payload["id"] != dl.ID {
				t.Errorf("the payload's id %v is not the webhook-id %s", dl.Payload["id"], dl.ID)
			}
			t.Run("go", func(t *testing.T) { runGoVerify(t, goVerify, secret, dl) })
			t.Run("node", func(t *testing.T) { runNodeVerify(t, jsVerify, secret, dl) })
		})
	})
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("the README's example has no %s:\n%s", old, s)
	}
	return strings.Replace(s, old, new, 1)
}

// webhookCase is a signed message for the README's verifiers, and whether they must
// accept it.
type webhookCase struct {
	What                           string
	ID, Timestamp, Signature, Body string
	Accept                         bool
}

// webhookCases are the real delivery (accepted), the same with a changed body or id
// (refused), signed 10 minutes ago (refused), and signed during a rotation by the new
// secret and the real one (accepted) or by another secret only (refused). The server's
// own signer (webhook.Sign) signs the made-up ones.
func webhookCases(t *testing.T, secret string, dl webhooktest.Delivery) []webhookCase {
	t.Helper()
	sign := func(secrets []string, at time.Time) string {
		sig, err := webhook.Sign(secrets, dl.ID, at, dl.Body)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	now, old := time.Now(), time.Now().Add(-10*time.Minute)
	body := string(dl.Body)
	return []webhookCase{
		{"the delivery", dl.ID, dl.Timestamp, dl.Signature, body, true},
		{"a changed body", dl.ID, dl.Timestamp, dl.Signature, body + " ", false},
		{"a changed id", dl.ID + "x", dl.Timestamp, dl.Signature, body, false},
		{"signed 10 minutes ago", dl.ID, strconv.FormatInt(old.Unix(), 10), sign([]string{secret}, old), body, false},
		{"signed by a rotated secret and this one", dl.ID, strconv.FormatInt(now.Unix(), 10), sign([]string{webhook.NewSecret(), secret}, now), body, true},
		{"signed by another secret", dl.ID, strconv.FormatInt(now.Unix(), 10), sign([]string{webhook.NewSecret()}, now), body, false},
	}
}

// runGoVerify compiles the README's Go verifier in a module of its own (standard library
// only, as the README says) and runs it on webhookCases.
func runGoVerify(t *testing.T, verify, secret string, dl webhooktest.Delivery) {
	t.Helper()
	goBin := requireTool(t, "go")
	dir := t.TempDir()
	main := `package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

` + verify + `
func main() {
	var in struct {
		Secret string
		Cases  []struct{ ID, Timestamp, Signature, Body string }
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	for _, c := range in.Cases {
		h := http.Header{}
		h.Set("webhook-id", c.ID)
		h.Set("webhook-timestamp", c.Timestamp)
		h.Set("webhook-signature", c.Signature)
		fmt.Println(verify(in.Secret, h, []byte(c.Body)))
	}
}
`
	for name, content := range map[string]string{"go.mod": "module readmeverify\n\ngo 1.22\n", "main.go": main} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := webhookCases(t, secret, dl)
	in, _ := json.Marshal(map[string]any{"Secret": secret, "Cases": cases})
	cmd := exec.CommandContext(t.Context(), goBin, "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local")
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the README's Go verifier does not run: %v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	if len(got) != len(cases) {
		t.Fatalf("the Go verifier printed %q for %d cases", out, len(cases))
	}
	for i, c := range cases {
		if got[i] != strconv.FormatBool(c.Accept) {
			t.Errorf("the Go verifier answered %s for %s", got[i], c.What)
		}
	}
}

// runNodeVerify runs the README's standardwebhooks snippet on webhookCases (the raw body
// and headers given to it as the snippet names them): it returns the event of an
// accepted message (the payload, whose id is the webhook-id) and throws on the others.
func runNodeVerify(t *testing.T, snippet, secret string, dl webhooktest.Delivery) {
	t.Helper()
	script := `const delivery = JSON.parse(process.env.DELIVERY);
const rawBody = delivery.body;
const req = { headers: delivery.headers };
` + snippet + `console.log(JSON.stringify({ id: event.id, type: event.type }));
`
	for _, c := range webhookCases(t, secret, dl) {
		cmd := nodeScript(t, script, "standardwebhooks")
		in, _ := json.Marshal(map[string]any{"body": c.Body, "headers": map[string]string{
			"webhook-id": c.ID, "webhook-timestamp": c.Timestamp, "webhook-signature": c.Signature}})
		cmd.Env = append(cmd.Env, "WEBHOOK_SECRET="+secret, "DELIVERY="+string(in))
		out, err := cmd.CombinedOutput()
		if !c.Accept {
			if err == nil {
				t.Errorf("the snippet accepted %s: %s", c.What, out)
			}
			continue
		}
		if err != nil {
			t.Errorf("the snippet refused %s: %v\n%s", c.What, err, out)
			continue
		}
		var ev struct{ ID, Type string }
		if json.Unmarshal(out, &ev) != nil || ev.ID != dl.ID || ev.Type != dl.Type() {
			t.Errorf("the snippet's event for %s is %s; want id %s, type %s", c.What, out, dl.ID, dl.Type())
		}
	}
}

// prometheusConfig is the part of Prometheus's configuration the README's examples use;
// the examples are decoded strictly, so a field outside it fails the test.
type prometheusConfig struct {
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		Scheme        string `yaml:"scheme"`
		Authorization *struct {
			Type            string `yaml:"type"`
			CredentialsFile string `yaml:"credentials_file"`
		} `yaml:"authorization"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

// TestReadmeMetricsScrape checks the two Prometheus scrape configurations against the
// server: the loopback one scrapes METRICS_ADDR's listener (at README's address; the
// test's on a free port) without a token; the other sends the token from its
// credentials file to the API's address, where /metrics answers only with it.
func TestReadmeMetricsScrape(t *testing.T) {
	parse := func(name string) (path string, target string, auth *struct{ Type, CredentialsFile string }) {
		t.Helper()
		var c prometheusConfig
		if err := yaml.UnmarshalWithOptions([]byte(readmeBlock(t, name)), &c, yaml.Strict()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(c.ScrapeConfigs) != 1 || len(c.ScrapeConfigs[0].StaticConfigs) != 1 || len(c.ScrapeConfigs[0].StaticConfigs[0].Targets) != 1 {
			t.Fatalf("%s: want one job with one target: %+v", name, c)
		}
		sc := c.ScrapeConfigs[0]
		if sc.Scheme != "" && sc.Scheme != "http" {
			t.Errorf("%s: scheme %s", name, sc.Scheme)
		}
		path = sc.MetricsPath
		if path == "" {
			path = "/metrics" // Prometheus's default
		}
		if a := sc.Authorization; a != nil {
			auth = &struct{ Type, CredentialsFile string }{a.Type, a.CredentialsFile}
		}
		return path, sc.StaticConfigs[0].Targets[0], auth
	}
	// The header Prometheus sends.
	accept := "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"

	text, _ := mustParseReadme(t)
	path, target, auth := parse("prometheus-loopback")
	addr := regexp.MustCompile("`METRICS_ADDR=([^`]+)`").FindStringSubmatch(text)
	if addr == nil || target != addr[1] || auth != nil {
		t.Errorf("the loopback scrape targets %s (auth %v); the README's METRICS_ADDR is %v, without a token", target, auth, addr)
	}
	s := apptest.Start(t, apptest.Options{Env: map[string]string{"METRICS_TOKEN": "", "METRICS_ADDR": "127.0.0.1:0"}})
	if code, body, err := apptest.Get(t.Context(), "http://"+s.MetricsAddr()+path, map[string]string{"Accept": accept}); err != nil || code != 200 || !strings.Contains(body, "rc_info") {
		t.Errorf("scraping METRICS_ADDR%s: %d %v %.200s", path, code, err, body)
	}

	path, target, auth = parse("prometheus-token")
	if auth == nil || auth.Type != "Bearer" || auth.CredentialsFile == "" {
		t.Fatalf("the remote scrape has no bearer credentials file: %+v", auth)
	}
	if _, port, err := net.SplitHostPort(target); err != nil || ":"+port != mustDefault(t, "ADDR") {
		t.Errorf("the remote scrape targets %s, not the API's default port (%s)", target, mustDefault(t, "ADDR"))
	}
	file := filepath.Join(t.TempDir(), filepath.Base(auth.CredentialsFile))
	if err := os.WriteFile(file, []byte(apptest.MetricsToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cred, _ := os.ReadFile(file)
	api := apptest.Start(t, apptest.Options{}) // METRICS_TOKEN is apptest.MetricsToken
	hdr := map[string]string{"Accept": accept, "Authorization": auth.Type + " " + strings.TrimSpace(string(cred))}
	if code, body, err := apptest.Get(t.Context(), api.Base+path, hdr); err != nil || code != 200 || !strings.Contains(body, "rc_info") {
		t.Errorf("scraping the API's %s with the token: %d %v %.200s", path, code, err, body)
	}
	if code, _, _ := apptest.Get(t.Context(), api.Base+path, map[string]string{"Accept": accept}); code == 200 {
		t.Errorf("the API's %s answers without the token", path)
	}
}

// mustDefault returns a setting's default as the server parses it (ADDR: ":8080").
func mustDefault(t *testing.T, env string) string {
	t.Helper()
	cfg, err := app.ParseConfig("serve", nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	switch env {
	case "ADDR":
		return cfg.Addr
	}
	t.Fatalf("mustDefault: %s", env)
	return ""
}

package app_test

// README.md's examples are run by tests. Every fenced block of README.md has the line
// "<!-- readme-test: NAME -->" just before it, and a test of this package reads it with
// readmeBlock(t, NAME) and runs it for real (readme_examples_test.go): GraphQL against a
// server built by apptest, on both engines; shell commands (curl; `go run .` as the
// built server binary) as child processes; JavaScript with node and e2e's packages; Go
// in a temporary module; JSON and YAML parsed and checked against what the server
// accepts and produces. The tag "shown-only" marks an output listing (not a command, a
// query or code), which TestReadmeBlocksTagged checks against what it shows.
//
// TestReadmeBlocksTagged fails on a block without a tag, a tag no test of the package
// names, or a repeated tag; after a full run (no -run, -skip, -list or -short),
// TestMain fails when a tag was not read by any test (readmeTagsRead).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"resolutioncenter/app"
	"resolutioncenter/app/apptest"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/graph"
)

// readmeShownOnly is the tag of a block that is shown, not run.
const readmeShownOnly = "shown-only"

var readmeTagRE = regexp.MustCompile(`^<!-- readme-test: (\S+) -->$`)

// readmeFence is one fenced block of README.md.
type readmeFence struct {
	Line    int    // of the opening fence, 1-based
	Lang    string // after the opening backticks
	Tag     string // of the tag line just before, "" when there is none
	Body    string // the lines between the fences, each ending in "\n"
	Heading string // the nearest heading above it
}

// parseReadme returns README.md's text and its fenced blocks.
func parseReadme() (string, []readmeFence, error) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		return "", nil, err
	}
	lines := strings.Split(string(b), "\n")
	var out []readmeFence
	heading := ""
	for i := 0; i < len(lines); i++ {
		l := strings.TrimLeft(lines[i], " ")
		if strings.HasPrefix(lines[i], "#") {
			heading = strings.TrimSpace(strings.TrimLeft(lines[i], "#"))
		}
		if !strings.HasPrefix(l, "```") {
			continue
		}
		f := readmeFence{Line: i + 1, Lang: strings.TrimSpace(strings.TrimPrefix(l, "```")), Heading: heading}
		if i > 0 {
			if m := readmeTagRE.FindStringSubmatch(strings.TrimSpace(lines[i-1])); m != nil {
				f.Tag = m[1]
			}
		}
		j := i + 1
		for j < len(lines) && !strings.HasPrefix(strings.TrimLeft(lines[j], " "), "```") {
			j++
		}
		if j == len(lines) {
			return "", nil, fmt.Errorf("README.md:%d: a fenced block that is never closed", i+1)
		}
		for _, bl := range lines[i+1 : j] {
			f.Body += bl + "\n"
		}
		out = append(out, f)
		i = j
	}
	return string(b), out, nil
}

func mustParseReadme(tb testing.TB) (string, []readmeFence) {
	tb.Helper()
	text, fences, err := parseReadme()
	if err != nil {
		tb.Fatal(err)
	}
	return text, fences
}

// readmeTagsRead holds the tags readmeBlock was asked for during this run.
var readmeTagsRead = struct {
	sync.Mutex
	names map[string]bool
}{names: map[string]bool{}}

// readmeBlock returns the fenced block that follows "<!-- readme-test: name -->" in
// README.md, and records that a test read it. Read the block first, before anything
// that may skip: the tag then counts as covered by this test.
func readmeBlock(tb testing.TB, name string) string {
	tb.Helper()
	_, fences := mustParseReadme(tb)
	for _, f := range fences {
		if f.Tag == name {
			readmeTagsRead.Lock()
			readmeTagsRead.names[name] = true
			readmeTagsRead.Unlock()
			return f.Body
		}
	}
	tb.Fatalf("README.md has no block tagged %q", name)
	return ""
}

// checkReadmeTagsRead runs after the package's tests (from TestMain): when they all ran,
// every tagged block must have been read by one of them. A filtered or short run does
// not read them all and is not checked.
func checkReadmeTagsRead(code int) int {
	if code != 0 {
		return code
	}
	for _, name := range []string{"test.run", "test.skip", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return code
		}
	}
	if testing.Short() {
		return code
	}
	_, fences, err := parseReadme()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		return 1
	}
	readmeTagsRead.Lock()
	defer readmeTagsRead.Unlock()
	var unread []string
	for _, f := range fences {
		if f.Tag != "" && f.Tag != readmeShownOnly && !readmeTagsRead.names[f.Tag] {
			unread = append(unread, fmt.Sprintf("%q (README.md:%d)", f.Tag, f.Line))
		}
	}
	if len(unread) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: README.md blocks no test read: %s; every block needs a test that reads it with readmeBlock and runs it\n",
			strings.Join(unread, ", "))
		return 1
	}
	return code
}

// TestReadmeBlocksTagged: every fenced block of README.md is tagged, each tag once
// (but shown-only), and each tag is named by a test of this package (TestMain checks
// after a full run that it was read). A shown-only block is no command, query or code,
// and the listing it shows is checked against the real thing.
func TestReadmeBlocksTagged(t *testing.T) {
	_, fences := mustParseReadme(t)
	if len(fences) == 0 {
		t.Fatal("README.md has no fenced blocks")
	}
	sources := testSources(t)
	seen := map[string]int{}
	for _, f := range fences {
		switch {
		case f.Tag == "":
			t.Errorf("README.md:%d: a ```%s block without a line <!-- readme-test: NAME --> just before it", f.Line, f.Lang)
		case f.Tag == readmeShownOnly:
			if f.Lang != "" && f.Lang != "text" {
				t.Errorf("README.md:%d: a ```%s block tagged %s: only output listings (no language, or text) may be shown without being run", f.Line, f.Lang, readmeShownOnly)
			}
			switch f.Heading {
			case "Architecture":
				checkArchitectureTree(t, f)
			default:
				t.Errorf("README.md:%d: a %s block under %q that no check knows: add one to TestReadmeBlocksTagged", f.Line, readmeShownOnly, f.Heading)
			}
		default:
			if l, dup := seen[f.Tag]; dup {
				t.Errorf("README.md:%d: the tag %q again (first at line %d)", f.Line, f.Tag, l)
			}
			seen[f.Tag] = f.Line
			if !strings.Contains(sources, `"`+f.Tag+`"`) {
				t.Errorf("README.md:%d: no test of package app names the block %q", f.Line, f.Tag)
			}
		}
	}
}

// testSources is the text of the package's test files.
func testSources(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(src)
	}
	return b.String()
}

// checkArchitectureTree checks the Architecture listing against the tree: every path it
// names exists, and every directory with Go code is listed (the module root as
// server.go).
func checkArchitectureTree(t *testing.T, f readmeFence) {
	t.Helper()
	listed := map[string]bool{}
	for _, line := range strings.Split(f.Body, "\n") {
		if line == "" || line[0] == ' ' {
			continue // a description's continuation
		}
		p := strings.Fields(line)[0]
		if _, err := os.Stat(filepath.Join("..", p)); err != nil {
			t.Errorf("README.md:%d: the Architecture listing names %s, which does not exist", f.Line, p)
		}
		p = strings.TrimSuffix(p, "/")
		if p == "server.go" {
			p = "."
		}
		listed[p] = true
	}
	var missing []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != ".." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".go") {
			dir, _ := filepath.Rel("..", filepath.Dir(path))
			if !listed[filepath.ToSlash(dir)] && !slices.Contains(missing, dir) {
				missing = append(missing, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("README.md:%d: the Architecture listing lacks these directories of Go code: %v", f.Line, missing)
	}
}

// readmeSection is the text under the heading that starts with title, up to the next
// heading of the same or a higher level.
func readmeSection(t *testing.T, text, title string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	// headingLevel is the level of a heading line outside fenced blocks (a "# comment"
	// inside a block is no heading), else 0.
	inFence := make([]bool, len(lines))
	fenced := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "```") {
			fenced = !fenced
		}
		inFence[i] = fenced
	}
	headingLevel := func(i int) int {
		l := lines[i]
		n := len(l) - len(strings.TrimLeft(l, "#"))
		if inFence[i] || n == 0 || !strings.HasPrefix(l[n:], " ") {
			return 0
		}
		return n
	}
	for i, l := range lines {
		level := headingLevel(i)
		if level == 0 || !strings.HasPrefix(strings.TrimSpace(l[level:]), title) {
			continue
		}
		var b strings.Builder
		for j := i + 1; j < len(lines); j++ {
			if ml := headingLevel(j); ml > 0 && ml <= level {
				break
			}
			b.WriteString(lines[j] + "\n")
		}
		return b.String()
	}
	t.Fatalf("README.md has no section %q", title)
	return ""
}

// serverSettings returns the server's settings as -help prints them: env -> flag.
func serverSettings(t *testing.T) map[string]string {
	t.Helper()
	var out strings.Builder
	if err := app.Run(context.Background(), []string{"-help"}, func(string) string { return "" }, &out); err != app.ErrHelp {
		t.Fatalf("-help: %v", err)
	}
	settings := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^  -(\S+)  \(env (\S+), default`).FindAllStringSubmatch(out.String(), -1) {
		settings[m[2]] = m[1]
	}
	if len(settings) < 20 {
		t.Fatalf("-help listed %d settings:\n%s", len(settings), out.String())
	}
	return settings
}

// TestReadmeSections (issue 13): README has sections for sign-in setup (naming every
// OIDC_* setting), CORS (the headers the server allows and exposes), trusted documents
// and the error codes, whose list is exactly the codes the server sends; and the
// Configuration table lists every setting with its flag.
func TestReadmeSections(t *testing.T) {
	text, _ := mustParseReadme(t)
	settings := serverSettings(t)

	signIn := readmeSection(t, text, "Sign-in with an identity provider")
	for env := range settings {
		if strings.HasPrefix(env, "OIDC_") && !strings.Contains(signIn, "`"+env+"`") {
			t.Errorf("the sign-in section does not name %s", env)
		}
	}

	cors := readmeSection(t, text, "CORS")
	for _, h := range append(slices.Clone(graph.CORSHeaders), "X-Request-Id", "Retry-After", "CORS_ORIGINS", "DEV_MODE", "github.com/rs/cors") {
		if !strings.Contains(cors, "`"+h+"`") {
			t.Errorf("the CORS section does not name %s", h)
		}
	}
	allowed := regexp.MustCompile("request headers a page may send are ([^;(]*)").FindStringSubmatch(cors)
	if allowed == nil {
		t.Error("the CORS section no longer lists the request headers a page may send")
	} else if got, want := sortedCopy(backticked(allowed[1])), sortedCopy(graph.CORSHeaders); !slices.Equal(got, want) {
		t.Errorf("the CORS section lists the request headers %v; the server allows %v", got, want)
	}

	trusted := readmeSection(t, text, "Trusted documents")
	for _, s := range []string{"`PERSISTED_DOCUMENTS`", "`PERSISTED_ONLY", "`PERSISTED_QUERY_NOT_ALLOWED`", "`PERSISTED_QUERY_NOT_FOUND`"} {
		if !strings.Contains(trusted, s) {
			t.Errorf("the trusted documents section does not name %s", s)
		}
	}

	// The error codes: the first column of the Errors section's tables.
	errorsSection := readmeSection(t, text, "Errors")
	var listed []string
	for _, m := range regexp.MustCompile("(?m)^\\| ([^|]+) \\|").FindAllStringSubmatch(errorsSection, -1) {
		listed = append(listed, backticked(m[1])...)
	}
	if got, want := sortedCopy(listed), serverErrorCodes(t); !slices.Equal(got, want) {
		t.Errorf("README's Errors section lists the codes\n  %v\nthe server sends\n  %v", got, want)
	}

	// Every setting is in the Configuration table, with its flag.
	config := readmeSection(t, text, "Configuration")
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| ([^|]*) \\| ([^|]*) \\|").FindAllStringSubmatch(config, -1) {
		envs, flags := backticked(m[1]), backticked(m[2])
		for i, e := range envs {
			rows[e] = ""
			if i < len(flags) {
				rows[e] = flags[i]
			}
		}
	}
	for env, fl := range settings {
		got, ok := rows[env]
		if !ok {
			t.Errorf("the Configuration table has no row for %s", env)
		} else if got != "-"+fl {
			t.Errorf("the Configuration table gives %s the flag %q, the server -%s", env, got, fl)
		}
	}
}

// serverErrorCodes is every extensions.code the server sends: the domain's closed set,
// the request-error codes of package graph, SLOW_CONSUMER, and the UserErrorCode enum;
// and, as a net for codes written as literals, every "code": "X" (or a code argument of
// writeJSONError) in the module's Go source must be one of them.
func serverErrorCodes(t *testing.T) []string {
	t.Helper()
	set := map[string]bool{graph.CodeParseFailed: true, graph.CodeValidationFailed: true,
		graph.CodePersistedQueryNotFound: true, graph.CodePersistedQueryNotAllowed: true, graph.CodeSlowConsumer: true}
	for _, c := range dispute.Codes {
		set[string(c)] = true
	}
	schema, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	enum := regexp.MustCompile(`(?s)enum UserErrorCode \{(.*?)\}`).FindSubmatch(schema)
	if enum == nil {
		t.Fatal("schema.graphqls has no enum UserErrorCode")
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+([A-Z][A-Z_]+)\s*$`).FindAllSubmatch(enum[1], -1) {
		set[string(m[1])] = true
	}
	literal := regexp.MustCompile(`"code\\?"\s*:\s*\\?"([A-Z][A-Z_]+)\\?"|writeJSONError\([^\n]*"([A-Z][A-Z_]+)"\)`)
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != ".." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.Contains(path, "apptest") || strings.Contains(path, "bench") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			code := m[1] + m[2]
			if !set[code] {
				t.Errorf("%s sends the code %s, which is not among the server's codes (dispute.Codes, graph's codes, UserErrorCode)", path, code)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	codes := make([]string, 0, len(set))
	for c := range set {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes
}

// backticked returns the `quoted` words of s.
func backticked(s string) []string {
	var out []string
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return slices.Compact(c)
}

// README's trusted-documents example: its manifest (whose ID is the SHA-256 of its
// document, as graphql-codegen computes it), loaded with PERSISTED_ONLY, and its curl
// command, run as written against the server.
func TestReadmeTrustedDocuments(t *testing.T) {
	manifestJSON := readmeBlock(t, "trusted-manifest")
	request := readmeBlock(t, "trusted-request")
	requireTool(t, "curl")
	var docs map[string]string
	if err := json.Unmarshal([]byte(manifestJSON), &docs); err != nil || len(docs) == 0 {
		t.Fatalf("the manifest does not parse as an object of ID to document: %v", err)
	}
	for id, doc := range docs {
		if sha := sha256Hex(doc); sha != id {
			t.Errorf("the manifest's ID %s is not the SHA-256 of its document (%s)", id, sha)
		}
		if !strings.Contains(request, "sha256:"+id) {
			t.Errorf("the request does not name the manifest's document %s", id)
		}
	}
	manifest := filepath.Join(t.TempDir(), "persisted-documents.json")
	if err := os.WriteFile(manifest, []byte(manifestJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d, apptest.Options{Env: map[string]string{"PERSISTED_DOCUMENTS": manifest, "PERSISTED_ONLY": "true"}})
	cast := dbtest.MustCast(t, d)
	opened := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())

	cmd := exec.CommandContext(t.Context(), "sh", "-c", readmeURLs(request, s.Base))
	cmd.Env = append(os.Environ(), "TOKEN="+cast.CustomerToken, "CASE_ID="+opened.Case.ID)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's curl command: %v\n%s", err, out)
	}
	var resp struct {
		Data struct {
			Resolution struct{ ID, Status string }
		}
		Errors []any
	}
	if json.Unmarshal(out, &resp) != nil || len(resp.Errors) > 0 || resp.Data.Resolution.ID != opened.Case.ID {
		t.Fatalf("the README's curl command answered %s", out)
	}
	// The same server refuses a free-form query, as the README says.
	if r := s.Do(t, cast.CustomerToken, `{ viewer { role } }`, nil); r.FirstCode() != "PERSISTED_QUERY_NOT_ALLOWED" {
		t.Errorf("free-form under PERSISTED_ONLY: %s %+v", r.Data, r.Errors)
	}
}

// README quotes a refusal's message with enum names: the server says exactly that.
func TestReadmeRefusalMessage(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("`(CUSTOMER may not DENY while the case is UNDER_PLATFORM_REVIEW;[^`]*)`").FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md no longer quotes the refusal message")
	}
	want := strings.Join(strings.Fields(string(m[1])), " ")

	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d)
	cast := dbtest.MustCast(t, d)
	id := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
	const act = `mutation($id: ID!) { %s(input: {resolutionId: $id, message: "x"}) { userErrors { code message } } }`
	run := func(token, op string) []struct{ Code, Message string } {
		t.Helper()
		var out map[string]struct {
			UserErrors []struct{ Code, Message string }
		}
		s.MustData(t, token, strings.Replace(act, "%s", op, 1), map[string]any{"id": id}, &out)
		return out[op].UserErrors
	}
	if ue := run(apptest.PlatformToken, "requestMerchantInfo"); len(ue) > 0 {
		t.Fatal(ue)
	}
	if ue := run(cast.CompanyToken, "respondToResolution"); len(ue) > 0 { // now UNDER_PLATFORM_REVIEW
		t.Fatal(ue)
	}
	// A customer cannot deny; the schema's DenyResolutionInput takes the same fields.
	ue := run(cast.CustomerToken, "denyResolution")
	if len(ue) != 1 || ue[0].Code != "ACTION_NOT_ALLOWED" || ue[0].Message != want {
		t.Errorf("refusal %+v, want ACTION_NOT_ALLOWED %q", ue, want)
	}
}

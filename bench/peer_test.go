package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// None of these tests needs node or PostGraphile.

func TestPeerSchedule(t *testing.T) {
	got := strings.Join(peerSchedule(3), ",")
	if got != "ours,peer,ours,peer,ours,peer" {
		t.Errorf("schedule: %s", got)
	}
	if len(peerSchedule(0)) != 0 {
		t.Error("0 rounds should schedule nothing")
	}
}

func TestSpanOf(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want span
	}{
		{[]float64{3, 1, 2}, span{1, 2, 3, 3}},
		{[]float64{4, 1, 2, 3}, span{1, 2.5, 4, 4}},
		{[]float64{math.NaN(), 5, math.Inf(1)}, span{5, 5, 5, 1}},
		{nil, span{}},
	} {
		if got := spanOf(c.in); got != c.want {
			t.Errorf("spanOf(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
	if s := (span{1, 2, 3, 3}).format(1, "x"); s != "2.0x (1.0–3.0)" {
		t.Errorf("format: %q", s)
	}
	if s := (span{}).String(); s != "-" {
		t.Errorf("empty span: %q", s)
	}
}

func TestFiguresOf(t *testing.T) {
	r := Result{RPS: 100, P50ms: 10, P99ms: 40, Requests: 2000, Errors: 1,
		Extra: map[string]any{"server_cpu_ms_per_req": 2.5, "postgres_cpu_s": 3.0}}
	f := figuresOf(r)
	if f.RPS != 100 || f.CPUPerReq != 2.5 || f.PGPerReq != 1.5 || f.Errors != 1 {
		t.Errorf("figures: %+v", f)
	}
	if f := figuresOf(Result{RPS: 1}); !math.IsNaN(f.CPUPerReq) || !math.IsNaN(f.PGPerReq) {
		t.Errorf("unknown CPU should be NaN: %+v", f)
	}
}

func TestSummarizePeer(t *testing.T) {
	fig := func(rps, cpu float64) sideFigures {
		return sideFigures{RPS: rps, P50ms: 1000 / rps, P99ms: 2000 / rps, CPUPerReq: cpu, PGPerReq: math.NaN(), Requests: int64(rps)}
	}
	rounds := []peerRound{
		{Scenario: "list", Round: 1, Ours: fig(300, 3), Peer: fig(100, 6)},
		{Scenario: "detail", Round: 1, Ours: fig(500, 1), Peer: fig(500, 1)},
		{Scenario: "list", Round: 2, Ours: fig(200, 4), Peer: fig(100, 8)},
		{Scenario: "list", Round: 3, Ours: fig(250, 5), Peer: fig(125, 5)},
	}
	sums := summarizePeer(rounds)
	if len(sums) != 2 || sums[0].Scenario != "list" || sums[1].Scenario != "detail" {
		t.Fatalf("grouping: %+v", sums)
	}
	l := sums[0]
	if l.Rounds != 3 || l.Ours.RPS != (span{200, 250, 300, 3}) || l.Peer.RPS != (span{100, 100, 125, 3}) {
		t.Errorf("rps spans: %+v / %+v", l.Ours.RPS, l.Peer.RPS)
	}
	// Ratios are per round (3, 2, 2), not the ratio of the medians (2.5).
	if l.RPSRatio != (span{2, 2, 3, 3}) {
		t.Errorf("rps ratio: %+v", l.RPSRatio)
	}
	if l.CPURatio != (span{0.5, 0.5, 1, 3}) {
		t.Errorf("CPU ratio: %+v", l.CPURatio)
	}
	if l.PGRatio.N != 0 || l.Ours.Requests != 750 {
		t.Errorf("unknown postgres CPU or requests: %+v", l)
	}
	var b strings.Builder
	if err := writePeerSummary(&b, sums); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "2.00x (2.00–3.00)") || !strings.Contains(b.String(), "this server") {
		t.Errorf("summary:\n%s", b.String())
	}
	b.Reset()
	if err := writePeerRounds(&b, rounds); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 5 || !strings.Contains(lines[1], "3.00x") {
		t.Errorf("rounds:\n%s", b.String())
	}
}

func TestPeerDatabaseURL(t *testing.T) {
	u, pool, err := peerDatabaseURL("postgres://postgres@127.0.0.1:5432/rc?sslmode=disable&pool_max_conns=12&pool_min_conns=2", 2)
	if err != nil || pool != 12 || u != "postgres://postgres@127.0.0.1:5432/rc?sslmode=disable" {
		t.Errorf("got %q %d %v", u, pool, err)
	}
	if _, pool, _ := peerDatabaseURL("postgres://127.0.0.1/rc", 2); pool != 4 {
		t.Errorf("pgxpool's default on 2 CPUs is 4, got %d", pool)
	}
	if _, pool, _ := peerDatabaseURL("postgresql://127.0.0.1/rc", 8); pool != 8 {
		t.Errorf("pgxpool's default on 8 CPUs is 8, got %d", pool)
	}
	for _, bad := range []string{"sqlite:/tmp/x.db", "postgres://127.0.0.1/rc?pool_max_conns=x"} {
		if _, _, err := peerDatabaseURL(bad, 2); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestNodeMajor(t *testing.T) {
	for in, want := range map[string]int{"v20.20.2\n": 20, "v22.1.0": 22, "garbage": 0, "": 0} {
		if got := nodeMajor(in); got != want {
			t.Errorf("nodeMajor(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestCheckPeerInstalled: without node_modules the mode names the command to run, and
// says so without node too.
func TestCheckPeerInstalled(t *testing.T) {
	dir := t.TempDir()
	if err := checkPeerInstalled(dir); err == nil || !strings.Contains(err.Error(), "server.mjs") {
		t.Errorf("no server.mjs: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.mjs"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkPeerInstalled(dir); err == nil || !strings.Contains(err.Error(), peerInstallHint) {
		t.Errorf("no node_modules: %v", err)
	}
}

func TestParseFlagsPeer(t *testing.T) {
	pg := "postgres://postgres@127.0.0.1:5432/rc?sslmode=disable"
	o, err := parseFlags([]string{"-peer", "-spawn", "-database-url", pg}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Scenarios, []string{"list", "detail"}) || o.SeedCases != 0 || o.PeerRounds != 3 {
		t.Errorf("peer defaults: %+v", o)
	}
	if o.budget() < 2*3*2*(o.Duration+o.Warmup) {
		t.Errorf("budget %s is shorter than the rounds", o.budget())
	}
	for _, args := range [][]string{
		{"-peer", "-spawn"}, // no database
		{"-peer", "-spawn", "-database-url", "sqlite:/tmp/x.db"},
		{"-peer", "-spawn", "-database-url", pg, "-scenario", "mutate"},
		{"-peer", "-spawn", "-database-url", pg, "-peer-rounds", "0"},
		{"-peer", "-spawn", "-database-url", pg, "-pprof", "http://127.0.0.1:6060"},
		{"-peer", "-smoke", "-database-url", pg},
	} {
		if _, err := parseFlags(args, &strings.Builder{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

const oursListJSON = `{"data":{"resolutions":{"edges":[
 {"cursor":"c1","node":{"id":"reso_1","company":{"id":"biz_1"},"user":{"id":"user_1"},"payment":{"id":"pay_1"},"member":null,
  "events":{"edges":[{"node":{"id":"revt_2"}},{"node":{"id":"revt_1"}}]}}},
 {"cursor":"c2","node":{"id":"reso_2","company":{"id":"biz_1"},"user":{"id":"user_2"},"payment":{"id":"pay_2"},"member":{"id":"mem_1"},
  "events":{"edges":[]}}}]}}}`

const peerListJSON = `{"data":{"allResolutions":{"edges":[
 {"cursor":"x","node":{"rowId":"reso_1","companyByCompanyId":{"rowId":"biz_1"},"userByUserId":{"rowId":"user_1"},
  "paymentByPaymentId":{"rowId":"pay_1"},"membershipByMemberId":null,
  "resolutionEventsByResolutionId":{"edges":[{"node":{"rowId":"revt_2"}},{"node":{"rowId":"revt_1"}}]}}},
 {"cursor":"y","node":{"rowId":"reso_2","companyByCompanyId":{"rowId":"biz_1"},"userByUserId":{"rowId":"user_2"},
  "paymentByPaymentId":{"rowId":"pay_2"},"membershipByMemberId":{"rowId":"mem_1"},
  "resolutionEventsByResolutionId":{"edges":[]}}}]}}}`

func TestDigestsCompare(t *testing.T) {
	o, err := digestList(sideOurs, []byte(oursListJSON))
	if err != nil {
		t.Fatal(err)
	}
	p, err := digestList(sidePeer, []byte(peerListJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := compareDigests(o, p); err != nil {
		t.Errorf("equal pages differ: %v", err)
	}
	if countEvents(o) != 2 || o[1].Related != [4]string{"biz_1", "user_2", "pay_2", "mem_1"} || o[0].Related[3] != "" {
		t.Errorf("digest: %+v", o)
	}
	swapped := strings.Replace(peerListJSON, `"revt_2"}},{"node":{"rowId":"revt_1"`, `"revt_1"}},{"node":{"rowId":"revt_2"`, 1)
	p2, _ := digestList(sidePeer, []byte(swapped))
	if err := compareDigests(o, p2); err == nil || !strings.Contains(err.Error(), "same order") {
		t.Errorf("event order: %v", err)
	}
	if err := compareDigests(o, p[:1]); err == nil {
		t.Error("a missing case passed")
	}
	od, err := digestDetail(sideOurs, []byte(`{"data":{"resolution":{"id":"reso_1","company":{"id":"biz_1"},"user":{"id":"u"},
		"payment":{"id":"p"},"member":null,"resolutionEvents":[{"id":"revt_1"},{"id":"revt_2"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	pd, err := digestDetail(sidePeer, []byte(`{"data":{"resolutionByRowId":{"rowId":"reso_1","companyByCompanyId":{"rowId":"biz_1"},
		"userByUserId":{"rowId":"u"},"paymentByPaymentId":{"rowId":"p"},"membershipByMemberId":null,
		"resolutionEventsByResolutionId":{"nodes":[{"rowId":"revt_1"},{"rowId":"revt_2"}]}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := compareDigests([]caseDigest{od}, []caseDigest{pd}); err != nil || len(od.Events) != 2 {
		t.Errorf("detail: %v %+v", err, od)
	}
	if _, err := digestDetail(sidePeer, []byte(`{"data":{"resolutionByRowId":null}}`)); err == nil {
		t.Error("a missing case passed")
	}
	if _, err := digestList(sidePeer, []byte(`{"errors":[{"message":"boom"}]}`)); err == nil {
		t.Error("GraphQL errors passed")
	}
}

// peerNames maps this server's field names to PostGraphile's for the same column or
// relation (inflection of db/migrations/postgres).
var peerNames = map[string]string{
	"resolutions": "allResolutions", "resolution": "resolutionByRowId", "id": "rowId",
	"company": "companyByCompanyId", "user": "userByUserId", "payment": "paymentByPaymentId",
	"member": "membershipByMemberId", "events": "resolutionEventsByResolutionId",
	"resolutionEvents": "resolutionEventsByResolutionId.nodes", // a list here, a connection there
}

// moneyFields are objects here ({ amount currency minorUnits }) and one BigInt column there.
var moneyFields = []string{"total", "subtotal", "refundedAmount"}

// computedFields have no column, so no PostGraphile counterpart.
var computedFields = []string{"viewerActions", "customerResponseActions", "merchantResponseActions", "platformResponseActions"}

// leafPaths lists the dotted paths of every leaf field an operation selects.
func leafPaths(t *testing.T, query string) []string {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var out []string
	var walk func(prefix string, set ast.SelectionSet)
	walk = func(prefix string, set ast.SelectionSet) {
		for _, s := range set {
			f, ok := s.(*ast.Field)
			if !ok {
				t.Fatalf("unexpected selection %T", s)
			}
			p := prefix + f.Name
			if len(f.SelectionSet) == 0 {
				out = append(out, p)
			} else {
				walk(p+".", f.SelectionSet)
			}
		}
	}
	walk("", doc.Operations[0].SelectionSet)
	slices.Sort(out)
	return out
}

// toPeerPath maps one of this server's leaf paths to PostGraphile's ("" when it has
// no counterpart).
func toPeerPath(p string) string {
	var out []string
	for _, seg := range strings.Split(p, ".") {
		if slices.Contains(computedFields, seg) {
			return ""
		}
		if n, ok := peerNames[seg]; ok {
			seg = n
		}
		out = append(out, seg)
		if slices.Contains(moneyFields, seg) {
			break
		}
	}
	return strings.Join(out, ".")
}

// TestPeerQueriesMirrorOurs checks that PostGraphile's operations select exactly the
// fields of this server's list and detail queries, through the name mapping above.
func TestPeerQueriesMirrorOurs(t *testing.T) {
	for _, c := range []struct{ name, ours, peer string }{
		{"list", listQuery, peerListQuery},
		{"detail", detailQuery, peerDetailQuery},
	} {
		var want []string
		for _, p := range leafPaths(t, c.ours) {
			if q := toPeerPath(p); q != "" && !slices.Contains(want, q) {
				want = append(want, q)
			}
		}
		slices.Sort(want)
		got := leafPaths(t, c.peer)
		if !slices.Equal(got, want) {
			for _, g := range got {
				if !slices.Contains(want, g) {
					t.Errorf("%s: PostGraphile selects %s, which this server's query does not", c.name, g)
				}
			}
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("%s: PostGraphile's query lacks %s", c.name, w)
				}
			}
		}
		if len(want) < 40 {
			t.Errorf("%s: only %d fields compared", c.name, len(want))
		}
	}
}

package graph_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	gqlast "github.com/vektah/gqlparser/v2/ast"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/graph"
)

// The differential test: the planned executor must answer exactly as gqlgen's. Two
// servers serve the same database, one with the planner (the default) and one
// without (QUERY_PLANNER=false); every query operation of the test suites and a stream
// of generated ones go to both, as every kind of caller, on both engines, and the
// answers must be equal: the same status, the same data byte for byte, the same errors
// (message, path, locations, extensions; in any order, as gqlgen runs fields
// concurrently and reports them in the order they finish).
//
//	go test ./graph/ -run TestPlannedMatchesGqlgen -plan.seed 7 -plan.n 20000
//	go test ./graph/ -run TestPlannedMatchesGqlgen -plan.maxbytes 1500 (answers over a small budget)
var (
	planSeed   = flag.Uint64("plan.seed", 1, "seed of the differential test's generated operations")
	planN      = flag.Int("plan.n", 0, "generated operations per engine (0: as many as -plan.budget allows)")
	planBudget = flag.Duration("plan.budget", 3*time.Second, "time per engine for generated operations when -plan.n is 0")
	planBytes  = flag.Int("plan.maxbytes", 0, "MAX_RESPONSE_BYTES of both servers (0: the default), to compare answers over a small budget")
)

func TestPlannedMatchesGqlgen(t *testing.T) {
	t.Parallel()
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	corpus := planCorpus(t, schema)
	if len(corpus) < 40 {
		t.Fatalf("the corpus of the tests' queries has %d operations: the extraction broke", len(corpus))
	}
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := buildPlanWorld(t, d)
		env := func(kv ...string) apptest.Options {
			o := apptest.Options{Env: map[string]string{}}
			if *planBytes > 0 {
				o.Env["MAX_RESPONSE_BYTES"] = fmt.Sprint(*planBytes)
			}
			for i := 0; i < len(kv); i += 2 {
				o.Env[kv[i]] = kv[i+1]
			}
			return o
		}
		planned := apptest.New(t, d, env())
		plain := apptest.New(t, d, env("QUERY_PLANNER", "false"))
		if *planBytes > 0 {
			w.findCursors(t, apptest.New(t, d, apptest.Options{Env: map[string]string{"QUERY_PLANNER": "false"}}))
		} else {
			w.findCursors(t, plain)
		}
		c := &planComparer{t: t, planned: planned, plain: plain}
		before := counter(planned.Metrics.QueriesPlanned)

		// The tests' own queries, each as three of the roles (all roles over the corpus).
		rnd := rand.New(rand.NewPCG(*planSeed, 99))
		var jobs []planJob
		for i, op := range corpus {
			vars, ok := w.variablesFor(rnd, op.op)
			if !ok {
				continue
			}
			for _, k := range []int{i, i + 4, i + 8} {
				jobs = append(jobs, planJob{role: w.roles[k%len(w.roles)], query: op.query, name: op.name, vars: vars})
			}
		}
		c.runAll(jobs)
		corpusPlanned := counter(planned.Metrics.QueriesPlanned) - before

		// Generated operations, each as two roles. They select only fields the planner
		// knows (the read schema but the webhook endpoints'): none may fall back for
		// want of one.
		unknown := planned.Metrics.QueryFallbacks.WithLabelValues("unsupported_field")
		unknownBefore := counter(unknown)
		gen := newOpGen(*planSeed, schema, w)
		deadline := time.Now().Add(*planBudget)
		n := 0
		for (*planN > 0 && n < *planN) || (*planN == 0 && time.Now().Before(deadline)) {
			jobs = jobs[:0]
			for range 16 {
				q, vars := gen.next()
				for range 2 {
					jobs = append(jobs, planJob{role: w.roles[gen.rnd.IntN(len(w.roles))], query: q, vars: vars})
				}
				n++
			}
			c.runAll(jobs)
			if t.Failed() {
				break
			}
		}
		if n := counter(unknown) - unknownBefore; n > 0 {
			t.Errorf("%d generated operations fell back for a field the planner does not know", int(n))
		}
		total := counter(planned.Metrics.QueriesPlanned) - before
		t.Logf("%s: %d corpus operations (%d requests planned), %d generated operations (%d refused by the validator and regenerated); "+
			"%d of %d compared requests planned, fallbacks: %s; %d answers with errors, %d of them with data null, %d with an error below a root field",
			d.Engine, len(corpus), int(corpusPlanned), n, gen.invalid, int(total), c.compared.Load(), fallbacks(planned),
			c.withErrors.Load(), c.nullData.Load(), c.nested.Load())
		if float64(total) < 0.5*float64(c.compared.Load()) {
			t.Errorf("only %d of %d requests took the planned path: the comparison hardly tests it", int(total), c.compared.Load())
		}
	})
}

type planJob struct {
	role        planRole
	query, name string
	vars        map[string]any
}

// planComparer sends each job to both servers and compares the answers.
type planComparer struct {
	t              *testing.T
	planned, plain *apptest.Server
	compared       atomic.Int64
	// withErrors, nullData and nested count answers with errors, with data null, and
	// with an error deeper than a root field: what the comparison covered.
	withErrors, nullData, nested atomic.Int64
	mu                           sync.Mutex
	failures                     int
}

func (c *planComparer) runAll(jobs []planJob) {
	var wg sync.WaitGroup
	ch := make(chan planJob)
	for range 4 {
		wg.Go(func() {
			for j := range ch {
				c.compare(j)
			}
		})
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
}

func (c *planComparer) compare(j planJob) {
	send := func(s *apptest.Server) (int, []byte, error) {
		body, _ := json.Marshal(map[string]any{"query": j.query, "operationName": j.name, "variables": j.vars})
		req, _ := http.NewRequest(http.MethodPost, s.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if j.role.token != "" {
			req.Header.Set("Authorization", "Bearer "+j.role.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, err = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.Bytes(), err
	}
	st1, got, err1 := send(c.planned)
	st2, want, err2 := send(c.plain)
	if err1 != nil || err2 != nil {
		c.fail(j, fmt.Sprintf("transport: %v / %v", err1, err2))
		return
	}
	c.compared.Add(1)
	g, gerr := normalizeAnswer(got)
	w, werr := normalizeAnswer(want)
	if st1 != st2 || gerr != nil || werr != nil || g != w {
		c.fail(j, fmt.Sprintf("planned answered %d:\n%s\ngqlgen answered %d:\n%s", st1, got, st2, want))
		return
	}
	if bytes.Contains(want, []byte(`"errors"`)) {
		c.withErrors.Add(1)
		if bytes.Contains(want, []byte(`"data":null`)) {
			c.nullData.Add(1)
		}
		if nestedPath(want) {
			c.nested.Add(1)
		}
	}
}

func (c *planComparer) fail(j planJob, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures++
	if c.failures > 5 {
		return
	}
	vars, _ := json.Marshal(j.vars)
	c.t.Errorf("as %s: %s\nvariables %s\n%s", j.role.name, j.query, vars, msg)
}

// normalizeAnswer returns a response with its errors sorted, data kept byte for byte.
func normalizeAnswer(body []byte) (string, error) {
	var r struct {
		Errors     []json.RawMessage `json:"errors"`
		Data       json.RawMessage   `json:"data"`
		Extensions json.RawMessage   `json:"extensions"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", err
	}
	errs := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		errs[i] = string(e)
	}
	sort.Strings(errs)
	return fmt.Sprintf("data: %s\nerrors: %s\nextensions: %s", r.Data, strings.Join(errs, "\n"), r.Extensions), nil
}

// nestedPath reports whether an answer has an error whose path is longer than one.
func nestedPath(body []byte) bool {
	var r struct {
		Errors []struct {
			Path []any `json:"path"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(body, &r)
	for _, e := range r.Errors {
		if len(e.Path) > 1 {
			return true
		}
	}
	return false
}

func counter(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

// fallbacks lists the planned server's fallbacks by reason.
func fallbacks(s *apptest.Server) string {
	var out []string
	for _, r := range []string{"unsupported_field", "introspection", "defer", "argument_error", "missing_row", "db_error", "response_budget", "panic"} {
		if n := counter(s.Metrics.QueryFallbacks.WithLabelValues(r)); n > 0 {
			out = append(out, fmt.Sprintf("%s %d", r, int(n)))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// variablesFor makes values for an operation's variables from the world's pools, or
// reports that it cannot (a type it does not know).
func (w *planWorld) variablesFor(rnd *rand.Rand, op *gqlast.OperationDefinition) (map[string]any, bool) {
	vars := map[string]any{}
	pick := func(list []string) string { return list[rnd.IntN(len(list))] }
	for _, vd := range op.VariableDefinitions {
		name := strings.ToLower(vd.Variable)
		kind := "reso"
		for _, k := range []struct{ hint, kind string }{{"company", "biz"}, {"biz", "biz"}, {"user", "user"}, {"pay", "pay"},
			{"mem", "mem"}, {"event", "revt"}} {
			if strings.Contains(name, k.hint) {
				kind = k.kind
			}
		}
		switch vd.Type.String() {
		case "ID!", "ID":
			vars[vd.Variable] = pick(w.ids[kind])
		case "[ID!]!", "[ID!]", "[ID]!":
			var list []string
			for range 1 + rnd.IntN(6) {
				list = append(list, pick(w.ids[pick([]string{"reso", "biz", "user", "pay", "mem", "revt"})]))
			}
			vars[vd.Variable] = list
		case "Int", "Int!":
			vars[vd.Variable] = []int{1, 2, 3, 5, 20}[rnd.IntN(5)]
		case "String", "String!":
			vars[vd.Variable] = pick(w.cursors)
		case "Boolean", "Boolean!":
			vars[vd.Variable] = rnd.IntN(2) == 0
		case "ResolutionFilter":
			vars[vd.Variable] = map[string]any{"statuses": []string{"MERCHANT_RESPONSE_NEEDED", "MERCHANT_WON"}}
		default:
			if vd.Type.NonNull && vd.DefaultValue == nil {
				return nil, false
			}
		}
	}
	return vars, true
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

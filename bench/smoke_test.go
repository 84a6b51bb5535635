package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs every scenario briefly against a server it builds and spawns on a
// temporary SQLite database, as CI's `go run ./bench -smoke` does, with shorter runs.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and spawns a server: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "smoke.json")
	var stdout, stderr strings.Builder
	err := run(ctx, []string{"-smoke", "-seed-cases", "600", "-d", "700ms", "-warmup", "100ms", "-json", out}, &stdout, &stderr)
	t.Log(stdout.String())
	if err != nil {
		t.Fatalf("smoke: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != len(allScenarios) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(allScenarios))
	}
	for i, r := range rep.Results {
		if r.Scenario != allScenarios[i] || r.Errors != 0 || r.Requests == 0 || r.Engine != "sqlite" {
			t.Errorf("result %d: %+v", i, r)
		}
		if r.Scenario != "floor" && (r.ServerCPU == nil || r.ServerRSSMB == nil) {
			t.Errorf("%s: server CPU/RSS missing", r.Scenario)
		}
		if (r.Scenario == "list" || r.Scenario == "mutate") && (r.SQLPerReq == nil || *r.SQLPerReq < 1) {
			t.Errorf("%s: sql/req missing", r.Scenario)
		}
		// The read scenarios' queries take the planned path, none falls back to gqlgen's.
		if slices.Contains([]string{"list", "list-total", "inbox", "deep-page", "detail", "summary", "summary-merchant", "count",
			"count-merchant"}, r.Scenario) {
			planned, _ := r.Extra["queries_planned"].(float64)
			if fb, ok := r.Extra["query_fallbacks"].(float64); !ok || fb != 0 || planned < float64(r.Requests) {
				t.Errorf("%s: %v planned of %d requests, %v fallbacks", r.Scenario, r.Extra["queries_planned"], r.Requests, r.Extra["query_fallbacks"])
			}
		}
	}
}

// TestInboxQueryIsREADMEs: the inbox scenario measures README's inbox example as written.
func TestInboxQueryIsREADMEs(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- readme-test: waiting-on-me -->\n```graphql\n(.*?)```").FindSubmatch(b)
	if m == nil || string(m[1]) != inboxQuery {
		t.Errorf("README's inbox example and the inbox scenario's query differ:\n%s\n---\n%s", m, inboxQuery)
	}
}

// TestListTotalQuery: list-total is list with the two counts and nothing else.
func TestListTotalQuery(t *testing.T) {
	back := strings.NewReplacer("BenchListTotal", "BenchList", "\n    totalCount", "", " totalCount", "").Replace(listTotalQuery)
	if strings.Count(listTotalQuery, "totalCount") != 2 || back != listQuery {
		t.Errorf("list-total's query:\n%s", listTotalQuery)
	}
}

// TestRefusesNonLoopback checks the command refuses remote targets before sending
// anything.
func TestRefusesNonLoopback(t *testing.T) {
	for _, args := range [][]string{
		{"-url", "http://192.0.2.1:8080/graphql", "-token", "x"},
		{"-url", "http://127.0.0.1:8080/graphql", "-url", "http://example.com/graphql", "-token", "x"},
		{"-url", "http://127.0.0.1:8080/graphql", "-token", "x", "-scenario", "floor", "-database-url", "postgres://u@db.example.com/x"},
	} {
		var so, se strings.Builder
		err := run(context.Background(), args, &so, &se)
		if err == nil || !strings.Contains(err.Error(), "non-loopback") {
			t.Errorf("%v: got %v, want a non-loopback refusal", args, err)
		}
	}
}

func TestParseFlagsSmokeDefaults(t *testing.T) {
	o, err := parseFlags([]string{"-smoke", "-c", "7"}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if !o.Spawn || o.Concurrency != 7 || o.Duration >= 5*time.Second || len(o.Scenarios) != len(allScenarios) {
		t.Errorf("smoke options: %+v", o)
	}
	if _, err := parseFlags([]string{"-scenario", "nope", "-spawn"}, &strings.Builder{}); err == nil {
		t.Error("unknown scenario accepted")
	}
	if _, err := parseFlags([]string{"-url", "http://127.0.0.1:1/graphql"}, &strings.Builder{}); err == nil {
		t.Error("missing -token accepted")
	}
}

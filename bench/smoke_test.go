package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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

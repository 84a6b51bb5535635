package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteTable(t *testing.T) {
	rs := []Result{
		{Scenario: "list", Engine: "postgres", Requests: 12345, RPS: 411.5, P50ms: 12.345, P95ms: 30, P99ms: 45.6789,
			SQLPerReq: ptr(6), ServerCPU: ptr(17.25), ServerRSSMB: ptr(88.04)},
		{Scenario: "idle", NoLatency: true, Extra: map[string]any{"subscribers": 10, "rss_kb_per_sub": 12.5}},
		{Scenario: "mutate", Requests: 3, Errors: 1, ErrorSamples: []string{"boom"}},
	}
	var b strings.Builder
	if err := WriteTable(&b, rs); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("want header, 3 rows, 2 notes; got %d lines:\n%s", len(lines), out)
	}
	for _, want := range []string{"scenario", "rps", "p50 ms", "p99 ms", "sql/req", "server CPU s", "server RSS MB"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("header lacks %q: %s", want, lines[0])
		}
	}
	if f := strings.Fields(lines[1]); strings.Join(f, " ") != "list postgres 12345 411.5 12.35 30.00 45.68 0 6.00 17.25 88.0" {
		t.Errorf("list row: %q", strings.Join(f, " "))
	}
	if f := strings.Fields(lines[2]); strings.Join(f, " ") != "idle - 0 0.0 - - - 0 - - -" {
		t.Errorf("idle row: %q", strings.Join(f, " "))
	}
	// Columns line up: every row has the same width as the header.
	for _, l := range lines[1:4] {
		if len(l) != len(lines[0]) {
			t.Errorf("row width %d != header width %d:\n%s", len(l), len(lines[0]), out)
		}
	}
	if !strings.Contains(out, "idle: rss_kb_per_sub=12.500 subscribers=10") {
		t.Errorf("extra line missing:\n%s", out)
	}
	if !strings.Contains(out, "mutate error: boom") {
		t.Errorf("error sample missing:\n%s", out)
	}
}

func TestResultFailed(t *testing.T) {
	cases := []struct {
		r    Result
		fail bool
	}{
		{Result{Requests: 10}, false},
		{Result{Requests: 10, Errors: 1}, true},
		{Result{}, true},
		{Result{NoLatency: true}, false},
	}
	for i, c := range cases {
		if got := c.r.Failed(); got != c.fail {
			t.Errorf("%d: Failed() = %v, want %v", i, got, c.fail)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	rep := Report{Started: time.Unix(0, 0).UTC(), Machine: describeMachine(),
		Results: []Result{{Scenario: "list", Requests: 1, SQLPerReq: ptr(6)}, {Scenario: "floor"}}}
	if err := WriteJSON(path, rep); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Machine Machine          `json:"machine"`
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Results[0]["sql_per_request"] != 6.0 {
		t.Errorf("sql_per_request: %v", back.Results[0]["sql_per_request"])
	}
	if _, ok := back.Results[1]["sql_per_request"]; ok {
		t.Error("an unknown sql_per_request should be omitted")
	}
	if back.Machine.CPUs < 1 {
		t.Errorf("machine: %+v", back.Machine)
	}
}

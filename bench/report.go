package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one scenario's measurement. Optional numbers are nil when unknown (no
// /metrics, no -pid), and printed as "-".
type Result struct {
	Scenario  string  `json:"scenario"`
	Engine    string  `json:"engine,omitempty"`
	Seconds   float64 `json:"seconds"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	RPS       float64 `json:"rps"`
	P50ms     float64 `json:"p50_ms"`
	P95ms     float64 `json:"p95_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	MeanMs    float64 `json:"mean_ms"`
	NoLatency bool    `json:"-"` // idle: nothing to time

	SQLPerReq   *float64 `json:"sql_per_request,omitempty"`
	ServerCPU   *float64 `json:"server_cpu_seconds,omitempty"`
	ServerRSSMB *float64 `json:"server_rss_mb,omitempty"`
	ClientCPU   float64  `json:"client_cpu_seconds"`

	ErrorSamples []string       `json:"error_samples,omitempty"`
	Extra        map[string]any `json:"extra,omitempty"`
}

func ptr(v float64) *float64 { return &v }

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// setLatency fills the latency columns from a summary.
func (r *Result) setLatency(s Summary) {
	r.P50ms, r.P95ms, r.P99ms, r.MaxMs, r.MeanMs = msOf(s.P50), msOf(s.P95), msOf(s.P99), msOf(s.Max), msOf(s.Mean)
}

// Failed reports whether the scenario should fail a smoke run.
func (r *Result) Failed() bool { return r.Errors > 0 || (r.Requests == 0 && !r.NoLatency) }

var tableHeader = []string{"scenario", "engine", "requests", "rps", "p50 ms", "p95 ms", "p99 ms", "errors",
	"sql/req", "server CPU s", "server RSS MB"}

// WriteTable prints the results as an aligned table, then each result's extra
// figures on indented lines.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(tableHeader, "\t")+"\t")
	for _, r := range results {
		lat := func(v float64) string {
			if r.NoLatency {
				return "-"
			}
			return fmtFloat(v, 2)
		}
		cells := []string{r.Scenario, orDash(r.Engine), strconv.FormatInt(r.Requests, 10), fmtFloat(r.RPS, 1),
			lat(r.P50ms), lat(r.P95ms), lat(r.P99ms), strconv.FormatInt(r.Errors, 10),
			optFloat(r.SQLPerReq, 2), optFloat(r.ServerCPU, 2), optFloat(r.ServerRSSMB, 1)}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if len(r.Extra) > 0 {
			fmt.Fprintf(w, "  %s: %s\n", r.Scenario, formatExtra(r.Extra))
		}
		for _, e := range r.ErrorSamples {
			fmt.Fprintf(w, "  %s error: %s\n", r.Scenario, e)
		}
	}
	return nil
}

// formatExtra prints a map as "k=v" pairs in key order.
func formatExtra(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := m[k]
		if f, ok := v.(float64); ok {
			v = fmtFloat(f, 3)
		}
		parts[i] = fmt.Sprintf("%s=%v", k, v)
	}
	return strings.Join(parts, " ")
}

func fmtFloat(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

func optFloat(v *float64, prec int) string {
	if v == nil {
		return "-"
	}
	return fmtFloat(*v, prec)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Report is what -json writes.
type Report struct {
	Started  time.Time      `json:"started"`
	Finished time.Time      `json:"finished"`
	Machine  Machine        `json:"machine"`
	Config   map[string]any `json:"config"`
	Results  []Result       `json:"results"`
	Peer     []peerSummary  `json:"peer,omitempty"` // -peer: this server vs PostGraphile
}

// Machine describes where the numbers were taken.
type Machine struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model"`
	MemTotalMB int64  `json:"mem_total_mb"`
	LoadBefore string `json:"loadavg_before"`
	LoadAfter  string `json:"loadavg_after"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
}

// describeMachine reads the CPU model, memory and load average (Linux; blank elsewhere).
func describeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		LoadBefore: loadAvg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				m.MemTotalMB = kb / 1024
			}
		}
	}
	return m
}

// loadAvg returns the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// WriteJSON writes the report, indented, to path.
func WriteJSON(path string, r Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

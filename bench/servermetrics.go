package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Probe reads one server's counters: its /metrics page and, when PID is set,
// /proc/<pid> for CPU time and resident memory (which then take precedence).
type Probe struct {
	MetricsURL string
	Token      string // METRICS_TOKEN, if the server requires one
	PID        int
	client     *http.Client
}

// Snapshot is the sum over all probed servers at one moment. Have* tell which
// figures were available from every server.
type Snapshot struct {
	SQL, CPU, RSS             float64
	HaveSQL, HaveCPU, HaveRSS bool
	GoMem                     float64 // Go heap in use plus goroutine stacks
	HaveGoMem                 bool
	PGCPU                     float64 // postgres processes on this machine (see postgresCPUSeconds)
	HavePG                    bool
	LagBounds, LagCum         []float64 // rc_fanout_lag_seconds buckets, cumulative
	// Planned and Fallbacks are the queries the planned executor answered and those it
	// left to gqlgen's (rc_query_planned_total, rc_query_fallbacks_total of every reason).
	Planned, Fallbacks float64
	HavePlanner        bool
}

// metricSample is one line of the Prometheus text format.
type metricSample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// parseMetrics reads the Prometheus text exposition format, skipping comments and
// lines it cannot parse.
func parseMetrics(r io.Reader) ([]metricSample, error) {
	var out []metricSample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s, ok := parseMetricLine(line)
		if ok {
			out = append(out, s)
		}
	}
	return out, sc.Err()
}

func parseMetricLine(line string) (metricSample, bool) {
	s := metricSample{Labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, false
	}
	s.Name, line = line[:i], line[i:]
	if line[0] == '{' {
		line = line[1:]
		for {
			line = strings.TrimLeft(line, " ,")
			if strings.HasPrefix(line, "}") {
				line = line[1:]
				break
			}
			eq := strings.Index(line, `="`)
			if eq <= 0 {
				return s, false
			}
			key := line[:eq]
			line = line[eq+2:]
			var val strings.Builder
			j := 0
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
					if line[j] == 'n' {
						val.WriteByte('\n')
						continue
					}
				}
				val.WriteByte(line[j])
			}
			if j == len(line) {
				return s, false
			}
			s.Labels[key] = val.String()
			line = line[j+1:]
		}
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return s, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return s, false
	}
	s.Value = v
	return s, true
}

// scrape fetches and parses the probe's metrics.
func (p *Probe) scrape(ctx context.Context) ([]metricSample, error) {
	if p.MetricsURL == "" || p.client == nil {
		return nil, nil // no /metrics (PostGraphile): /proc only
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.MetricsURL, nil)
	if err != nil {
		return nil, err
	}
	if p.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.Token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", p.MetricsURL, resp.Status)
	}
	return parseMetrics(resp.Body)
}

// snapshot reads every probe and sums the figures. Errors reading /metrics are not
// fatal: the figures they would have given are reported as unknown.
func snapshot(ctx context.Context, probes []*Probe, pgDatabase string) Snapshot {
	s := Snapshot{HaveSQL: true, HaveCPU: true, HaveRSS: true, HavePlanner: true}
	lag := map[float64]float64{}
	for _, p := range probes {
		samples, _ := p.scrape(ctx) // unreachable: the figures stay unknown
		haveSQL, haveCPU, haveRSS, havePlanner := false, false, false, false
		for _, m := range samples {
			switch m.Name {
			case "rc_query_planned_total":
				s.Planned += m.Value
				havePlanner = true
			case "rc_query_fallbacks_total":
				s.Fallbacks += m.Value
			case "rc_sql_statements_total":
				s.SQL += m.Value
				haveSQL = true
			case "process_cpu_seconds_total":
				if p.PID == 0 {
					s.CPU += m.Value
					haveCPU = true
				}
			case "process_resident_memory_bytes":
				if p.PID == 0 {
					s.RSS += m.Value
					haveRSS = true
				}
			case "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes":
				s.GoMem += m.Value
				s.HaveGoMem = true
			case "rc_fanout_lag_seconds_bucket":
				if le, err := strconv.ParseFloat(m.Labels["le"], 64); err == nil {
					lag[le] += m.Value
				}
			}
		}
		if p.PID > 0 {
			if cpu, err := procCPUSeconds(p.PID); err == nil {
				s.CPU += cpu
				haveCPU = true
			}
			if rss, err := procRSSBytes(p.PID); err == nil {
				s.RSS += rss
				haveRSS = true
			}
		}
		s.HaveSQL = s.HaveSQL && haveSQL
		s.HaveCPU = s.HaveCPU && haveCPU
		s.HaveRSS = s.HaveRSS && haveRSS
		s.HavePlanner = s.HavePlanner && havePlanner
	}
	if len(probes) == 0 {
		s.HaveSQL, s.HaveCPU, s.HaveRSS, s.HavePlanner = false, false, false, false
	}
	s.PGCPU, s.HavePG = postgresCPUSeconds(pgDatabase)
	for le := range lag {
		s.LagBounds = append(s.LagBounds, le)
	}
	sort.Float64s(s.LagBounds)
	for _, le := range s.LagBounds {
		s.LagCum = append(s.LagCum, lag[le])
	}
	return s
}

// lagQuantiles estimates the server-side fan-out lag quantiles between two snapshots.
func lagQuantiles(before, after Snapshot, qs ...float64) []float64 {
	out := make([]float64, len(qs))
	if len(after.LagBounds) == 0 || len(before.LagCum) != len(after.LagCum) && len(before.LagCum) != 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	delta := make([]float64, len(after.LagCum))
	for i := range delta {
		delta[i] = after.LagCum[i]
		if len(before.LagCum) > 0 {
			delta[i] -= before.LagCum[i]
		}
	}
	for i, q := range qs {
		out[i] = histogramQuantile(q, after.LagBounds, delta)
	}
	return out
}

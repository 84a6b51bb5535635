package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// Bookkeeping of the -peer mode: the alternation of the two servers, each round's
// figures, their spread over rounds and the ratios this server / PostGraphile.

// peerScenarios are the scenarios -peer can run on both servers.
var peerScenarios = []string{"list", "detail"}

const (
	sideOurs = "ours" // this server
	sidePeer = "peer" // PostGraphile
)

// peerSchedule is the order of one scenario's measured runs: ours, peer, ours, peer,
// ... rounds times each, so a slow spell of a shared machine hits both servers.
func peerSchedule(rounds int) []string {
	out := make([]string, 0, 2*rounds)
	for range rounds {
		out = append(out, sideOurs, sidePeer)
	}
	return out
}

// sideFigures is one server's measured run, reduced to what the comparison prints.
// Unknown figures are NaN.
type sideFigures struct {
	RPS       float64 `json:"rps"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	CPUPerReq float64 `json:"-"` // the server process's CPU, ms per request
	PGPerReq  float64 `json:"-"` // every postgres process's CPU, ms per request
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
}

// figuresOf reduces a measured Result.
func figuresOf(r Result) sideFigures {
	f := sideFigures{RPS: r.RPS, P50ms: r.P50ms, P99ms: r.P99ms, CPUPerReq: math.NaN(), PGPerReq: math.NaN(),
		Requests: r.Requests, Errors: r.Errors}
	if v, ok := r.Extra["server_cpu_ms_per_req"].(float64); ok {
		f.CPUPerReq = v
	}
	if v, ok := r.Extra["postgres_cpu_s"].(float64); ok && r.Requests > 0 {
		f.PGPerReq = 1000 * v / float64(r.Requests)
	}
	return f
}

// peerRound is one round of one scenario: each server measured once.
type peerRound struct {
	Scenario   string
	Round      int
	Ours, Peer sideFigures
}

// ratio is a/b, NaN when either is unknown or b is zero.
func ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return math.NaN()
	}
	return a / b
}

// span is the spread of one figure over rounds (unknown values left out).
type span struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

func spanOf(vs []float64) span {
	var v []float64
	for _, x := range vs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return span{}
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return span{Min: v[0], Median: med, Max: v[len(v)-1], N: len(v)}
}

// String prints "median (min–max)", or the value alone for one round, "-" for none.
func (s span) String() string { return s.format(1, "") }

func (s span) format(prec int, unit string) string {
	switch {
	case s.N == 0:
		return "-"
	case s.N == 1 || s.Min == s.Max:
		return fmtFloat(s.Median, prec) + unit
	}
	return fmt.Sprintf("%s%s (%s–%s)", fmtFloat(s.Median, prec), unit, fmtFloat(s.Min, prec), fmtFloat(s.Max, prec))
}

// sideSummary is one server's figures over the rounds of a scenario.
type sideSummary struct {
	RPS       span  `json:"rps"`
	P50ms     span  `json:"p50_ms"`
	P99ms     span  `json:"p99_ms"`
	CPUPerReq span  `json:"server_cpu_ms_per_req"`
	PGPerReq  span  `json:"postgres_cpu_ms_per_req"`
	Requests  int64 `json:"requests"`
	Errors    int64 `json:"errors"`
}

// peerSummary is a scenario's comparison: both servers' spreads and the spread of
// the per-round ratios this server / PostGraphile (rps above 1: this server is faster;
// CPU below 1: it spends less per request).
type peerSummary struct {
	Scenario    string      `json:"scenario"`
	Rounds      int         `json:"rounds"`
	Ours        sideSummary `json:"ours"`
	Peer        sideSummary `json:"postgraphile"`
	RPSRatio    span        `json:"rps_ratio"`
	P50Ratio    span        `json:"p50_ratio"`
	P99Ratio    span        `json:"p99_ratio"`
	CPURatio    span        `json:"server_cpu_ratio"`
	PGRatio     span        `json:"postgres_cpu_ratio"`
	PeerVersion string      `json:"postgraphile_version,omitempty"`
}

// summarizePeer groups rounds by scenario, in order of first appearance.
func summarizePeer(rounds []peerRound) []peerSummary {
	var order []string
	by := map[string][]peerRound{}
	for _, r := range rounds {
		if _, ok := by[r.Scenario]; !ok {
			order = append(order, r.Scenario)
		}
		by[r.Scenario] = append(by[r.Scenario], r)
	}
	out := make([]peerSummary, 0, len(order))
	for _, name := range order {
		rs := by[name]
		s := peerSummary{Scenario: name, Rounds: len(rs)}
		pick := func(f func(peerRound) float64) span {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = f(r)
			}
			return spanOf(v)
		}
		side := func(get func(peerRound) sideFigures) sideSummary {
			ss := sideSummary{
				RPS:       pick(func(r peerRound) float64 { return get(r).RPS }),
				P50ms:     pick(func(r peerRound) float64 { return get(r).P50ms }),
				P99ms:     pick(func(r peerRound) float64 { return get(r).P99ms }),
				CPUPerReq: pick(func(r peerRound) float64 { return get(r).CPUPerReq }),
				PGPerReq:  pick(func(r peerRound) float64 { return get(r).PGPerReq }),
			}
			for _, r := range rs {
				ss.Requests += get(r).Requests
				ss.Errors += get(r).Errors
			}
			return ss
		}
		s.Ours = side(func(r peerRound) sideFigures { return r.Ours })
		s.Peer = side(func(r peerRound) sideFigures { return r.Peer })
		s.RPSRatio = pick(func(r peerRound) float64 { return ratio(r.Ours.RPS, r.Peer.RPS) })
		s.P50Ratio = pick(func(r peerRound) float64 { return ratio(r.Ours.P50ms, r.Peer.P50ms) })
		s.P99Ratio = pick(func(r peerRound) float64 { return ratio(r.Ours.P99ms, r.Peer.P99ms) })
		s.CPURatio = pick(func(r peerRound) float64 { return ratio(r.Ours.CPUPerReq, r.Peer.CPUPerReq) })
		s.PGRatio = pick(func(r peerRound) float64 { return ratio(r.Ours.PGPerReq, r.Peer.PGPerReq) })
		out = append(out, s)
	}
	return out
}

func optNum(v float64, prec int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmtFloat(v, prec)
}

func optRatio(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmtFloat(v, 2) + "x"
}

// writePeerRounds prints one line per round: both servers side by side and the ratios.
func writePeerRounds(w io.Writer, rounds []peerRound) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join([]string{"scenario", "round", "ours rps", "peer rps", "rps ours/peer",
		"ours p50/p99 ms", "peer p50/p99 ms", "ours CPU ms/req", "peer CPU ms/req", "CPU ours/peer",
		"ours pg ms/req", "peer pg ms/req", "errors ours/peer"}, "\t")+"\t")
	for _, r := range rounds {
		o, p := r.Ours, r.Peer
		cells := []string{r.Scenario, fmt.Sprint(r.Round), fmtFloat(o.RPS, 1), fmtFloat(p.RPS, 1), optRatio(ratio(o.RPS, p.RPS)),
			fmtFloat(o.P50ms, 1) + " / " + fmtFloat(o.P99ms, 1), fmtFloat(p.P50ms, 1) + " / " + fmtFloat(p.P99ms, 1),
			optNum(o.CPUPerReq, 2), optNum(p.CPUPerReq, 2), optRatio(ratio(o.CPUPerReq, p.CPUPerReq)),
			optNum(o.PGPerReq, 2), optNum(p.PGPerReq, 2), fmt.Sprintf("%d / %d", o.Errors, p.Errors)}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	return tw.Flush()
}

// writePeerSummary prints each scenario's spread over rounds ("median (min–max)") for
// both servers, then the per-round ratios this server / PostGraphile.
func writePeerSummary(w io.Writer, sums []peerSummary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join([]string{"scenario", "server", "rps", "p50 ms", "p99 ms", "server CPU ms/req",
		"postgres CPU ms/req", "errors"}, "\t")+"\t")
	for _, s := range sums {
		for _, row := range []struct {
			name string
			ss   sideSummary
		}{{"this server", s.Ours}, {"PostGraphile " + s.PeerVersion, s.Peer}} {
			fmt.Fprintln(tw, strings.Join([]string{s.Scenario, strings.TrimSpace(row.name), row.ss.RPS.format(1, ""),
				row.ss.P50ms.format(1, ""), row.ss.P99ms.format(1, ""), row.ss.CPUPerReq.format(2, ""),
				row.ss.PGPerReq.format(2, ""), fmt.Sprint(row.ss.Errors)}, "\t")+"\t")
		}
		fmt.Fprintln(tw, strings.Join([]string{s.Scenario, "ours/peer", s.RPSRatio.format(2, "x"), s.P50Ratio.format(2, "x"),
			s.P99Ratio.format(2, "x"), s.CPURatio.format(2, "x"), s.PGRatio.format(2, "x"), ""}, "\t")+"\t")
	}
	return tw.Flush()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

// The -peer mode: each scenario against this server and against PostGraphile v5 on
// the same database, in alternating rounds (ours, peer, ours, peer, ...), each round
// with its own warm-up and measured -d, the CPU of both server processes read from
// /proc. Before measuring, one request to each checks that both return the same
// rows. See peerqueries.go for the operations and BENCHMARKS.md for a run.

// peerTarget is one of the two servers and the scenario's request to it.
type peerTarget struct {
	env *env
	ops opFunc
}

// preparePeer checks PostGraphile is installed and works out its database URL and
// pool before anything is built or spawned.
func preparePeer(o *Options) (dbURL string, pool int, err error) {
	if o.PeerDir == "" {
		if o.PeerDir, err = defaultPeerDir(); err != nil {
			return "", 0, err
		}
	}
	if err := checkPeerInstalled(o.PeerDir); err != nil {
		return "", 0, err
	}
	dbURL, pool, err = peerDatabaseURL(o.DatabaseURL, runtime.NumCPU())
	if err != nil {
		return "", 0, err
	}
	if o.PeerPool > 0 {
		pool = o.PeerPool
	}
	return dbURL, pool, nil
}

// runPeer starts PostGraphile, runs the scenarios in alternating rounds and prints
// every round and the summary. It fails when a scenario could not be compared or
// either server answered with errors.
func (e *env) runPeer(ctx context.Context, dbURL string, pool int, rep *Report, stdout io.Writer) error {
	o := e.opts
	p, err := startPeer(ctx, o.PeerDir, dbURL, pool, e.log)
	if err != nil {
		return err
	}
	defer func() {
		if err := p.Stop(); err != nil {
			fmt.Fprintln(e.log, "bench: stopping PostGraphile:", err)
		}
	}()
	peerOpts := *o
	pe := &env{opts: &peerOpts, log: e.log,
		gql:    []*gqlClient{{url: p.URL, http: newHTTPClient(o.Concurrency, o.Timeout)}},
		probes: []*Probe{{PID: p.PID()}}}
	rep.Config["postgraphile_version"] = p.Version
	rep.Config["peer_pool"] = pool

	var rounds []peerRound
	var failed []string
	for _, name := range o.Scenarios {
		if ctx.Err() != nil {
			break
		}
		e.logf("=== %s: this server and PostGraphile %s, %d rounds", name, p.Version, o.PeerRounds)
		ours, peer, err := e.peerTargets(ctx, pe, name)
		if err != nil {
			fmt.Fprintf(e.log, "bench: %s: %v\n", name, err)
			failed = append(failed, name)
			continue
		}
		rs, results := e.peerRounds(ctx, name, ours, peer)
		rounds = append(rounds, rs...)
		rep.Results = append(rep.Results, results...)
		for _, r := range rs {
			if r.Ours.Errors > 0 || r.Peer.Errors > 0 {
				failed = append(failed, name)
				break
			}
		}
	}
	sums := summarizePeer(rounds)
	for i := range sums {
		sums[i].PeerVersion = p.Version
	}
	rep.Peer = sums
	fmt.Fprintf(stdout, "\nthis server (%s) vs PostGraphile %s (%s), the same database, %d clients, rounds of %s after a %s warm-up\n",
		strings.Join(o.URLs, " "), p.Version, p.URL, o.Concurrency, o.Duration, o.Warmup)
	fmt.Fprintf(stdout, "load average before %s, after %s; %d CPUs (%s); PostGraphile pool %d\n\n",
		rep.Machine.LoadBefore, loadAvg(), rep.Machine.CPUs, rep.Machine.CPUModel, pool)
	if err := writePeerRounds(stdout, rounds); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if err := writePeerSummary(stdout, sums); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nmedian (min–max) over rounds; ratios are per round, this server / PostGraphile:"+
		" rps above 1 and CPU below 1 favour this server; postgres CPU counts every postgres process on the machine")
	for _, r := range rep.Results {
		for _, s := range r.ErrorSamples {
			fmt.Fprintf(stdout, "  %s %v error: %s\n", r.Scenario, r.Extra["server"], s)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("scenarios with errors: %s", strings.Join(failed, ", "))
	}
	return nil
}

// peerRounds measures ours and peer alternately, -peer-rounds times each.
func (e *env) peerRounds(ctx context.Context, name string, ours, peer peerTarget) ([]peerRound, []Result) {
	var rounds []peerRound
	var results []Result
	n := e.opts.PeerRounds
	for i, side := range peerSchedule(n) {
		if ctx.Err() != nil {
			break
		}
		round := i/2 + 1
		t := ours
		if side == sidePeer {
			t = peer
		}
		r := t.env.measure(ctx, fmt.Sprintf("%s %s %d/%d", name, side, round, n), t.ops)
		r.Scenario = name
		r.extra("server", side)
		r.extra("round", round)
		results = append(results, r)
		f := figuresOf(r)
		e.logf("%s round %d/%d %s: %.1f rps, p50 %.1f ms, p99 %.1f ms, server CPU %s ms/req, %d errors",
			name, round, n, side, f.RPS, f.P50ms, f.P99ms, optNum(f.CPUPerReq, 2), f.Errors)
		if side == sideOurs {
			rounds = append(rounds, peerRound{Scenario: name, Round: round, Ours: f})
		} else if len(rounds) > 0 {
			rounds[len(rounds)-1].Peer = f
		}
	}
	if len(rounds) > 0 && rounds[len(rounds)-1].Peer == (sideFigures{}) {
		rounds = rounds[:len(rounds)-1] // interrupted between the two halves of a round
	}
	return rounds, results
}

// peerTargets builds a scenario's requests for both servers and checks, one request
// each, that they return the same rows; the check is printed on one line.
func (e *env) peerTargets(ctx context.Context, pe *env, name string) (ours, peer peerTarget, err error) {
	ours, peer = peerTarget{env: e}, peerTarget{env: pe}
	switch name {
	case "list":
		ob, pb := encodeRequest(listQuery, map[string]any{"after": nil}), encodeRequest(peerListQuery, nil)
		od, err := fetchList(ctx, e, e.opts.Token, ob, sideOurs)
		if err != nil {
			return ours, peer, fmt.Errorf("this server: %w", err)
		}
		pd, err := fetchList(ctx, pe, "", pb, sidePeer)
		if err != nil {
			return ours, peer, fmt.Errorf("PostGraphile: %w", err)
		}
		if err := compareDigests(od, pd); err != nil {
			return ours, peer, fmt.Errorf("not equivalent on page 1: %w", err)
		}
		e.logf("equivalence list: page 1: %d cases and %d events here, %d cases and %d events from PostGraphile; the same cases, related rows and events, in the same order",
			len(od), countEvents(od), len(pd), countEvents(pd))
		ours.ops = rotate(e, e.opts.Token, [][]byte{ob})
		peer.ops = rotate(pe, "", [][]byte{pb})
		return ours, peer, nil
	case "detail":
		cases, err := e.listCases(ctx, e.opts.DetailCases, "MERCHANT_RESPONSE_NEEDED")
		if err != nil {
			return ours, peer, err
		}
		if e.opts.FillEvents > 0 {
			if err := e.fillEvents(ctx, cases, e.opts.FillEvents); err != nil {
				return ours, peer, err
			}
		}
		obs, pbs := make([][]byte, len(cases)), make([][]byte, len(cases))
		var od, pd []caseDigest
		for i, c := range cases {
			obs[i] = encodeRequest(detailQuery, map[string]any{"id": c.ID})
			pbs[i] = encodeRequest(peerDetailQuery, map[string]any{"id": c.ID})
			o, err := fetchDetail(ctx, e, e.opts.Token, obs[i], sideOurs)
			if err != nil {
				return ours, peer, fmt.Errorf("this server: %s: %w", c.ID, err)
			}
			p, err := fetchDetail(ctx, pe, "", pbs[i], sidePeer)
			if err != nil {
				return ours, peer, fmt.Errorf("PostGraphile: %s: %w", c.ID, err)
			}
			od, pd = append(od, o), append(pd, p)
		}
		if err := compareDigests(od, pd); err != nil {
			return ours, peer, fmt.Errorf("not equivalent: %w", err)
		}
		e.logf("equivalence detail: %d cases, %d events here, %d events from PostGraphile; the same related rows and events, in the same order",
			len(od), countEvents(od), countEvents(pd))
		ours.ops = rotate(e, e.opts.Token, obs)
		peer.ops = rotate(pe, "", pbs)
		return ours, peer, nil
	}
	return ours, peer, fmt.Errorf("-peer has no PostGraphile query for %q", name)
}

// fetch sends one request to t's server and returns the answer's body.
func fetch(ctx context.Context, t *env, token string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return t.gql[0].rawRequest(ctx, token, body)
}

// fetchList fetches a list page from one side and digests it.
func fetchList(ctx context.Context, t *env, token string, body []byte, side string) ([]caseDigest, error) {
	b, err := fetch(ctx, t, token, body)
	if err != nil {
		return nil, err
	}
	d, err := digestList(side, b)
	if err == nil && len(d) == 0 {
		err = errors.New("no cases: seed the database first")
	}
	return d, err
}

// fetchDetail fetches one case from one side and digests it.
func fetchDetail(ctx context.Context, t *env, token string, body []byte, side string) (caseDigest, error) {
	b, err := fetch(ctx, t, token, body)
	if err != nil {
		return caseDigest{}, err
	}
	return digestDetail(side, b)
}

// rotate returns an opFunc that posts bodies in turn (as token) to t's server.
func rotate(t *env, token string, bodies [][]byte) opFunc {
	var next atomic.Int64
	return func(ctx context.Context, _, _ int) error {
		return t.post(bodies[int(next.Add(1)-1)%len(bodies)], token)(ctx)
	}
}

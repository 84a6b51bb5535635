package app_test

// The end-to-end scenario: every principal subscribed on every process over both
// transports, the plan run through the processes, and what every subscriber got
// compared with the final state; then SIGTERM with every subscription open.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/app/apptest"
)

// scenario subscribes on every process as every principal over WebSocket and SSE,
// runs the plan through the processes in turn, and checks what every subscriber got
// against the final state read through the API.
type scenario struct {
	procs   []*apptest.Process
	w       *world
	streams []*stream
	wsConns []*wsConn
	sseDone []chan struct{}
}

func subscribeAll(t *testing.T, procs []*apptest.Process, w *world, eventCases []string) *scenario {
	t.Helper()
	sc := &scenario{procs: procs, w: w}
	url0 := procs[0].URL
	startCursor := map[string]string{} // principal/case -> cursor of the created event
	for _, pr := range []string{"c1", "c2", "b1", "b2", "team", "plat"} {
		for _, k := range caseKeys {
			if w.sees(pr, k) {
				_, _, cur := readTimeline(t, url0, w.tok[pr], w.cases[k])
				startCursor[pr+"/"+k] = cur[1]
			}
		}
	}
	updAllowed := func(pr string) func(string) bool { return func(k string) bool { return w.sees(pr, k) } }
	newStream := func(name, pr, caseKey string) *stream {
		s := &stream{name: name, principal: pr, caseKey: caseKey, allowed: updAllowed(pr)}
		sc.streams = append(sc.streams, s)
		return s
	}
	for pi, p := range procs {
		merchant := "b1"
		if pi == 2 {
			merchant = "team"
		}
		principals := []string{"c1", merchant, "plat"}
		if pi == 0 {
			principals = append(principals, "c2", "b2")
		}
		for _, pr := range principals {
			// WebSocket: events of each case the principal may see, its case updates,
			// and (for the platform) narrowed updates. On the second process the event
			// subscriptions resume from the created event's cursor.
			c := dialWSConn(t, p.URL, w.tok[pr])
			sc.wsConns = append(sc.wsConns, c)
			for _, k := range eventCases {
				name := fmt.Sprintf("%s ws %s events %s", p.Name, pr, k)
				vars := map[string]any{"id": w.cases[k]}
				if !w.sees(pr, k) {
					if pr != "c1" && pr != "b1" { // one foreign subscription each is enough
						continue
					}
					s := newStream(name+" (foreign)", pr, k)
					s.wantCode = "NOT_FOUND"
					c.subscribe("e"+k, s, resumableEventSub, vars)
					continue
				}
				if pi == 1 {
					vars["after"] = startCursor[pr+"/"+k]
				}
				c.subscribe("e"+k, newStream(name, pr, k), resumableEventSub, vars)
			}
			c.subscribe("u", newStream(fmt.Sprintf("%s ws %s updates", p.Name, pr), pr, ""), updateSub, nil)
			if pr == "plat" {
				s := newStream(fmt.Sprintf("%s ws plat updates narrowed", p.Name), pr, "")
				s.allowed = func(k string) bool { return k == "A" || k == "F" }
				c.subscribe("un", s, updateSub, map[string]any{"f": map[string]any{
					"companyId": w.ids["b1"], "resolutionIds": []string{w.cases["A"], w.cases["E"], w.cases["F"]}}})
			}
			c.run()

			if pr == "c2" || pr == "b2" {
				continue
			}
			// SSE: the first two subscribed cases and the updates; on the third process
			// resuming from the created event's cursor.
			for _, k := range eventCases[:min(2, len(eventCases))] {
				vars := map[string]any{"id": w.cases[k]}
				if pi == 2 {
					vars["after"] = startCursor[pr+"/"+k]
				}
				s := newStream(fmt.Sprintf("%s sse %s events %s", p.Name, pr, k), pr, k)
				sc.sseDone = append(sc.sseDone, subscribeSSE(t, p.URL, w.tok[pr], s, resumableEventSub, vars))
			}
			s := newStream(fmt.Sprintf("%s sse %s updates", p.Name, pr), pr, "")
			sc.sseDone = append(sc.sseDone, subscribeSSE(t, p.URL, w.tok[pr], s, updateSub, nil))
		}
	}
	live := 0
	for _, s := range sc.streams {
		if s.wantCode == "" {
			live++
		}
	}
	waitSubscribed(t, procs, live)
	return sc
}

// check waits until every stream received what it should and compares exactly.
func (sc *scenario) check(t *testing.T) {
	t.Helper()
	w, url := sc.w, sc.procs[0].URL
	type final struct {
		version   int
		positions []int
	}
	finals := map[string]final{} // principal/case
	versions := map[string]int{} // case ID -> final version
	for _, pr := range []string{"c1", "c2", "b1", "b2", "team", "plat"} {
		for _, k := range caseKeys {
			if w.sees(pr, k) {
				v, pos, _ := readTimeline(t, url, w.tok[pr], w.cases[k])
				var after []int
				for _, p := range pos {
					if p > 1 {
						after = append(after, p)
					}
				}
				finals[pr+"/"+k] = final{v, after}
				versions[w.cases[k]] = v
			}
		}
	}
	// What each case's timeline hides from whom: the test must really exercise
	// visibility.
	if a := finals["plat/A"].positions; len(a) == len(finals["c1/A"].positions) || len(a) == len(finals["b1/A"].positions) {
		t.Fatalf("case A's timeline hides nothing from anyone: platform %v, customer %v, merchant %v",
			a, finals["c1/A"].positions, finals["b1/A"].positions)
	}
	caseKey := map[string]string{}
	for k, id := range w.cases {
		caseKey[id] = k
	}

	complete := func(s *stream) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case s.wantCode != "":
			return len(s.codes) > 0
		case s.caseKey != "":
			return len(s.positions) >= len(finals[s.principal+"/"+s.caseKey].positions)
		}
		for _, k := range caseKeys {
			if s.allowed(k) {
				vs := s.versions[w.cases[k]]
				if len(vs) == 0 || vs[len(vs)-1] < versions[w.cases[k]] {
					return false
				}
			}
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range sc.streams {
		for !complete(s) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(300 * time.Millisecond) // anything extra shows up now

	for _, s := range sc.streams {
		s.mu.Lock()
		for _, p := range s.problems {
			t.Errorf("%s: %s", s.name, p)
		}
		switch {
		case s.wantCode != "":
			if !slices.Equal(s.codes, []string{s.wantCode}) || len(s.positions) > 0 {
				t.Errorf("%s: got codes %v and events %v, want exactly one %s error", s.name, s.codes, s.positions, s.wantCode)
			}
		case s.caseKey != "":
			want := finals[s.principal+"/"+s.caseKey].positions
			if !slices.Equal(s.positions, want) || len(s.codes) > 0 {
				t.Errorf("%s: got %v (errors %v),\nwant %v", s.name, s.positions, s.codes, want)
			}
		default:
			if len(s.codes) > 0 {
				t.Errorf("%s: errors %v", s.name, s.codes)
			}
			for id, vs := range s.versions {
				k := caseKey[id]
				if !s.allowed(k) {
					t.Errorf("%s: got case %s (%q), which it may not see or did not ask for", s.name, id, k)
					continue
				}
				if !slices.IsSorted(vs) || len(slices.Compact(slices.Clone(vs))) != len(vs) {
					t.Errorf("%s: case %s versions not strictly increasing: %v", s.name, k, vs)
				}
			}
			for _, k := range caseKeys {
				if !s.allowed(k) {
					continue
				}
				vs := s.versions[w.cases[k]]
				if len(vs) == 0 || vs[len(vs)-1] != versions[w.cases[k]] {
					t.Errorf("%s: case %s last version seen %v, want the final %d", s.name, k, vs, versions[w.cases[k]])
				}
			}
		}
		s.mu.Unlock()
	}
}

// stopAll sends SIGTERM to every process with all subscriptions open: each exits 0
// within the grace period, and every live stream ends cleanly (complete, or the
// WebSocket closed with 1001 going away).
func (sc *scenario) stopAll(t *testing.T, grace time.Duration) {
	t.Helper()
	apptest.CloseIdleConnections()
	sent := make([]time.Time, len(sc.procs))
	for i, p := range sc.procs {
		sent[i] = p.Terminate(t)
	}
	for i, p := range sc.procs {
		code, el := p.WaitExit(t, sent[i], grace+5*time.Second)
		t.Logf("%s exited with %d %v after SIGTERM", p.Name, code, el.Round(time.Millisecond))
		if code != 0 {
			t.Errorf("%s exited with %d", p.Name, code)
		}
		if el > grace {
			t.Errorf("%s took %v to exit, more than the %v grace period", p.Name, el, grace)
		}
	}
	timeout := time.After(10 * time.Second)
	for _, c := range sc.wsConns {
		select {
		case <-c.done:
		case <-timeout:
			t.Fatal("a WebSocket connection outlived its server")
		}
	}
	for _, d := range sc.sseDone {
		select {
		case <-d:
		case <-timeout:
			t.Fatal("an SSE response outlived its server")
		}
	}
	for _, s := range sc.streams {
		if s.wantCode != "" {
			continue
		}
		s.mu.Lock()
		if !s.completed && s.closeCode != websocket.StatusGoingAway {
			t.Errorf("%s: ended without complete (close code %v) on shutdown", s.name, s.closeCode)
		}
		s.mu.Unlock()
	}
}

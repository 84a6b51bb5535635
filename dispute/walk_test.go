package dispute

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestRandomWalk drives many cases from Open through random allowed actions and
// deadlines. At every state it checks that Allowed and Apply agree for every
// actor and action, and after every step that the case's invariants hold. It
// also checks that the walk reached every row of the expectation table.
func TestRandomWalk(t *testing.T) {
	const steps = 30000
	p := DefaultPolicy()
	rng := rand.New(rand.NewPCG(20260301, 7))
	at := t0
	visited := map[key]bool{}
	deadlines := map[Status]bool{}
	refundKinds := map[Refund]bool{}

	var (
		c       Case
		refunds int // Effects.RefundPayment on the current case
		appeals int
		cases   int
	)
	open := func() {
		issue := Issues[rng.IntN(len(Issues))]
		var err error
		c, _, err = p.Open(Case{ID: "reso_w", Issue: issue, UserID: "u", PaymentID: "p", MemberID: "m"}, "help", at)
		if err != nil {
			t.Fatal(err)
		}
		refunds, appeals = 0, 0
		cases++
	}
	open()

	type move struct {
		actor  Actor
		action Action
	}
	for i := 0; i < steps; i++ {
		at = at.Add(time.Duration(rng.IntN(60)) * time.Hour)
		if rng.IntN(8) == 0 { // now and then, let a deadline pass
			at = at.Add(p.ResponseWindow)
		}
		var moves []move
		for _, actor := range humans {
			allowed := p.Allowed(c, actor)
			for _, a := range allActions {
				_, _, _, err := p.Apply(c, actor, a, Input{Message: "m"}, at)
				switch {
				case slices.Contains(allowed, a) && err != nil:
					t.Fatalf("step %d: %s %s listed in %s but refused: %v", i, actor, a, c.Status, err)
				case slices.Contains(allowed, a):
					moves = append(moves, move{actor, a})
				case err == nil:
					t.Fatalf("step %d: %s %s not listed in %s but accepted", i, actor, a, c.Status)
				case CodeOf(err) != CodeActionNotAllowed && CodeOf(err) != CodeLimitReached:
					t.Fatalf("step %d: %s %s refused with %v", i, actor, a, err)
				}
			}
		}
		due := c.DueDate != nil && !at.Before(*c.DueDate)
		if due && hasDeadlineStatus(c.Status) {
			moves = append(moves, move{ActorSystem, actionDeadline})
		} else if _, _, ok := p.Expire(c, at); ok {
			t.Fatalf("step %d: Expire applied to %s before its deadline", i, c.Status)
		}
		if len(moves) == 0 {
			if c.Status.Open() {
				t.Fatalf("step %d: open case in %s offers nothing", i, c.Status)
			}
			open()
			continue
		}

		m := moves[rng.IntN(len(moves))]
		var (
			n   Case
			ev  Event
			eff Effects
			err error
			ok  = true
		)
		if m.actor == ActorSystem {
			n, ev, ok = p.Expire(c, at)
			deadlines[c.Status] = true
		} else {
			msg := "m"
			if rng.IntN(2) == 0 && !lookup(c.Status, m.actor, m.action).messageRequired {
				msg = ""
			}
			n, ev, eff, err = p.Apply(c, m.actor, m.action, Input{Message: msg, TerminateMembership: rng.IntN(2) == 0}, at)
			visited[key{c.Status, m.actor, m.action}] = true
		}
		if err != nil || !ok {
			t.Fatalf("step %d: %+v failed: %v", i, m, err)
		}
		if eff.RefundPayment {
			refunds++
		}
		if ev.Action == EventAppealed {
			appeals++
		}
		checkInvariants(t, p, c, n, ev, eff, refunds, appeals)
		refundKinds[n.Refund] = true
		c = n
	}

	for k := range expected {
		if !visited[k] {
			t.Errorf("the walk never took %v", k)
		}
	}
	for _, s := range []Status{sMR, sCR, sMI, sCI} {
		if !deadlines[s] {
			t.Errorf("the walk never expired a case in %s", s)
		}
	}
	for _, r := range []Refund{RefundNone, RefundMerchant, RefundPlatform} {
		if !refundKinds[r] {
			t.Errorf("the walk never closed a case with refund=%s", r)
		}
	}
	t.Logf("%d steps over %d cases", steps, cases)
}

func checkInvariants(t *testing.T, p Policy, prev, n Case, ev Event, eff Effects, refunds, appeals int) {
	t.Helper()
	fail := func(what string) {
		t.Helper()
		t.Fatalf("%s\nprev %+v\nnext %+v\nevent %+v\neffects %+v", what, prev, n, ev, eff)
	}
	if n.Version != prev.Version+1 || n.EventCount != prev.EventCount+1 || ev.Position != n.EventCount {
		fail("version, event count and position must advance by one")
	}
	if ev.FromStatus != prev.Status || ev.ToStatus != n.Status || !n.UpdatedAt.Equal(ev.CreatedAt) {
		fail("event must record the transition at the case's update time")
	}
	if refunds > 1 || (refunds == 1) != n.PaymentRefunded {
		fail("the payment must be refunded exactly once when refunded")
	}
	if eff.RefundPayment && prev.PaymentRefunded {
		fail("refund effect on a refunded payment")
	}
	if appeals > 1 || (n.CustomerAppealed && n.MerchantAppealed) || (appeals == 1) != (n.CustomerAppealed || n.MerchantAppealed) {
		fail("at most one appeal")
	}
	if n.InfoRequests > p.MaxInfoRequests {
		fail("too many info requests")
	}
	if (n.Refund == RefundMerchant || n.Refund == RefundPlatform) && !n.PaymentRefunded {
		fail("refund recorded without a refunded payment")
	}
	if n.Status.Open() {
		if n.Outcome != OutcomeNone || n.Refund != RefundUnset || n.DecidedBy != "" {
			fail("an open case has no outcome, refund or decider")
		}
		if (n.DueDate != nil) != hasDeadlineStatus(n.Status) {
			fail("deadline set exactly in the waiting statuses")
		}
		return
	}
	if n.Outcome == OutcomeNone || n.Refund == RefundUnset || n.DecidedBy == "" || n.DueDate != nil {
		fail("a closed case has outcome, refund, decider and no deadline")
	}
}

// hasDeadlineStatus restates the waiting statuses (the four "*_needed" statuses:
// someone owes an answer by a deadline) independently of Status.Waiting.
func hasDeadlineStatus(s Status) bool {
	return s == sMR || s == sCR || s == sMI || s == sCI
}

package seed

import (
	"fmt"
	"time"

	"resolutioncenter/dispute"
)

// The bulk generator walks each case through the policy towards a chosen final
// status in a chosen number of events. To pick only moves from which the target is
// still reachable in exactly the events left, it uses a table computed once from the
// policy itself: the transitions of an abstract case (status, appeal flags, deciding
// actor, info requests used; everything the transition table's guards look at) under
// every move, and for each abstract case the lengths of the paths to each status.

// move is one thing a party can do to a case.
type move uint8

const (
	mvCustomerRespond move = iota
	mvCustomerWithdraw
	mvCustomerAppeal
	mvMerchantAccept
	mvMerchantDeny
	mvMerchantMoreInfo
	mvMerchantRespond
	mvMerchantAppeal
	mvPlatformBuyerInfo
	mvPlatformMerchantInfo
	mvPlatformMerchantWins
	mvPlatformRefund
	mvDeadline // the system, when the deadline passes
	numMoves
)

var moveActor = [numMoves]dispute.Actor{
	dispute.ActorCustomer, dispute.ActorCustomer, dispute.ActorCustomer,
	dispute.ActorMerchant, dispute.ActorMerchant, dispute.ActorMerchant, dispute.ActorMerchant, dispute.ActorMerchant,
	dispute.ActorPlatform, dispute.ActorPlatform, dispute.ActorPlatform, dispute.ActorPlatform,
	dispute.ActorSystem,
}

var moveAction = [numMoves]dispute.Action{
	dispute.ActionRespond, dispute.ActionWithdraw, dispute.ActionAppeal,
	dispute.ActionAccept, dispute.ActionDeny, dispute.ActionRequestMoreInfo, dispute.ActionRespond, dispute.ActionAppeal,
	dispute.ActionRequestBuyerInfo, dispute.ActionRequestMerchantInfo, dispute.ActionMerchantWins, dispute.ActionMerchantRefund,
	"",
}

// statusIndex maps a status to its index in dispute.Statuses.
func statusIndex(s dispute.Status) int {
	for i, v := range dispute.Statuses {
		if v == s {
			return i
		}
	}
	panic("seed: unknown status " + string(s))
}

var deciders = []dispute.Actor{"", dispute.ActorCustomer, dispute.ActorMerchant, dispute.ActorPlatform, dispute.ActorSystem}

func deciderIndex(a dispute.Actor) int {
	for i, v := range deciders {
		if v == a {
			return i
		}
	}
	panic("seed: unknown actor " + string(a))
}

// maxSteps bounds the walks: a case has at most 20 events.
const maxSteps = 20

// moveWeights says how likely each move is in each status, for realistic timelines:
// mostly the party whose turn it is answers; the platform steps in now and then.
// A zero weight means the walk never uses the move there.
var moveWeights = func() [8][numMoves]float64 {
	var w [8][numMoves]float64
	set := func(s dispute.Status, m move, v float64) { w[statusIndex(s)][m] = v }
	mrn := dispute.StatusMerchantResponseNeeded
	set(mrn, mvMerchantRespond, 5)
	set(mrn, mvMerchantMoreInfo, 4)
	set(mrn, mvCustomerRespond, 1.5)
	set(mrn, mvMerchantAccept, 3)
	set(mrn, mvMerchantDeny, 3)
	set(mrn, mvCustomerWithdraw, 1)
	set(mrn, mvPlatformMerchantInfo, 0.6)
	set(mrn, mvPlatformBuyerInfo, 0.4)
	set(mrn, mvPlatformMerchantWins, 0.3)
	set(mrn, mvPlatformRefund, 0.3)
	set(mrn, mvDeadline, 1.2)
	crn := dispute.StatusCustomerResponseNeeded
	set(crn, mvCustomerRespond, 6)
	set(crn, mvMerchantRespond, 1.2)
	set(crn, mvMerchantDeny, 1.5)
	set(crn, mvMerchantAccept, 1.5)
	set(crn, mvCustomerWithdraw, 1.5)
	set(crn, mvPlatformMerchantInfo, 0.3)
	set(crn, mvPlatformBuyerInfo, 0.3)
	set(crn, mvDeadline, 1.2)
	minfo := dispute.StatusMerchantInfoNeeded
	set(minfo, mvMerchantRespond, 6)
	set(minfo, mvMerchantAccept, 1)
	set(minfo, mvCustomerWithdraw, 0.4)
	set(minfo, mvPlatformMerchantWins, 0.2)
	set(minfo, mvPlatformRefund, 0.3)
	set(minfo, mvDeadline, 1.2)
	cin := dispute.StatusCustomerInfoNeeded
	set(cin, mvCustomerRespond, 6)
	set(cin, mvCustomerWithdraw, 1)
	set(cin, mvMerchantAccept, 0.5)
	set(cin, mvPlatformMerchantWins, 0.3)
	set(cin, mvPlatformRefund, 0.2)
	set(cin, mvDeadline, 1.2)
	upr := dispute.StatusUnderPlatformReview
	set(upr, mvCustomerRespond, 2)
	set(upr, mvMerchantRespond, 2)
	set(upr, mvPlatformBuyerInfo, 1.5)
	set(upr, mvPlatformMerchantInfo, 1.5)
	set(upr, mvPlatformMerchantWins, 2)
	set(upr, mvPlatformRefund, 2)
	set(upr, mvMerchantAccept, 0.8)
	set(upr, mvCustomerWithdraw, 0.8)
	set(dispute.StatusMerchantWon, mvCustomerAppeal, 1)
	set(dispute.StatusCustomerWon, mvMerchantAppeal, 1)
	return w
}()

// absCase is the part of a case the transition table's rows and guards read.
type absCase struct {
	status           int // index in dispute.Statuses
	customerAppealed bool
	merchantAppealed bool
	decidedBy        int // index in deciders
	infoRequests     int // 0..MaxInfoRequests
}

// walkTable is the precomputed table for one policy.
type walkTable struct {
	p       dispute.Policy
	maxInfo int
	// next[s][m] is the abstract case after move m in abstract case s, or -1.
	next [][numMoves]int
	// reach[s][t] has bit k set when status t can be reached from s in exactly k moves.
	reach [][8]uint32
}

func (w *walkTable) key(a absCase) int {
	k := a.status
	k = k*2 + b2i(a.customerAppealed)
	k = k*2 + b2i(a.merchantAppealed)
	k = k*len(deciders) + a.decidedBy
	return k*(w.maxInfo+1) + a.infoRequests
}

func (w *walkTable) abs(k int) absCase {
	var a absCase
	a.infoRequests = k % (w.maxInfo + 1)
	k /= w.maxInfo + 1
	a.decidedBy = k % len(deciders)
	k /= len(deciders)
	a.merchantAppealed = k%2 == 1
	k /= 2
	a.customerAppealed = k%2 == 1
	a.status = k / 2
	return a
}

func (w *walkTable) keyOf(c dispute.Case) int {
	return w.key(absCase{status: statusIndex(c.Status), customerAppealed: c.CustomerAppealed,
		merchantAppealed: c.MerchantAppealed, decidedBy: deciderIndex(c.DecidedBy), infoRequests: c.InfoRequests})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// newWalkTable asks the policy what every move does in every abstract case.
func newWalkTable(p dispute.Policy) (*walkTable, error) {
	maxInfo := p.MaxInfoRequests
	if maxInfo <= 0 {
		maxInfo = dispute.DefaultMaxInfoRequests
	}
	if maxInfo > 8 {
		maxInfo = 8 // more than a 20-event walk could use, and it keeps the table small
	}
	w := &walkTable{p: p, maxInfo: maxInfo}
	n := 8 * 2 * 2 * len(deciders) * (maxInfo + 1)
	w.next = make([][numMoves]int, n)
	w.reach = make([][8]uint32, n)
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for k := 0; k < n; k++ {
		a := w.abs(k)
		c := dispute.Case{Status: dispute.Statuses[a.status], Issue: dispute.IssueItemNotReceived,
			CustomerAppealed: a.customerAppealed, MerchantAppealed: a.merchantAppealed,
			DecidedBy: deciders[a.decidedBy], InfoRequests: a.infoRequests, MemberID: "m"}
		for m := move(0); m < numMoves; m++ {
			w.next[k][m] = -1
			if moveWeights[a.status][m] == 0 {
				continue
			}
			var nc dispute.Case
			if m == mvDeadline {
				due := t0
				c.DueDate = &due
				var ok bool
				nc, _, ok = p.Expire(c, t0)
				c.DueDate = nil
				if !ok {
					continue
				}
			} else {
				var err error
				nc, _, _, err = p.Apply(c, moveActor[m], moveAction[m], dispute.Input{Message: "x"}, t0)
				if err != nil {
					continue
				}
			}
			if nc.InfoRequests > maxInfo {
				continue
			}
			w.next[k][m] = w.keyOf(nc)
		}
	}
	for k := 0; k < n; k++ {
		w.reach[k][w.abs(k).status] = 1
	}
	for step := 1; step < maxSteps; step++ {
		bit := uint32(1) << step
		for k := 0; k < n; k++ {
			for m := move(0); m < numMoves; m++ {
				nk := w.next[k][m]
				if nk < 0 {
					continue
				}
				for t := 0; t < 8; t++ {
					if w.reach[nk][t]&(bit>>1) != 0 {
						w.reach[k][t] |= bit
					}
				}
			}
		}
	}
	// Every status must be reachable from a new case in every length the generator
	// asks for; otherwise the policy changed in a way the weights do not cover.
	start := w.key(absCase{status: statusIndex(dispute.StatusMerchantResponseNeeded)})
	for t := 0; t < 8; t++ {
		for k := 1; k < maxSteps; k++ {
			if w.reach[start][t]&(1<<k) == 0 {
				return nil, fmt.Errorf("seed: status %s is not reachable in %d moves", dispute.Statuses[t], k)
			}
		}
	}
	return w, nil
}

// feasible reports whether status t can be reached from abstract case k in exactly n moves.
func (w *walkTable) feasible(k, t, n int) bool {
	return n >= 0 && n < maxSteps && w.reach[k][t]&(1<<n) != 0
}

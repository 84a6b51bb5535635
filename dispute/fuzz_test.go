package dispute_test

// Fuzz targets for input validation and the lifecycle: ValidateMessage and Policy.Apply
// never panic, refuse only with typed errors, and what they accept is consistent with
// the rules (Allowed, versions, positions, effects).
//
//	go test -run '^$' -fuzz '^FuzzValidateMessage$' -fuzztime 5s ./dispute
//	go test -run '^$' -fuzz '^FuzzPolicyApply$' -fuzztime 5s ./dispute

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"resolutioncenter/dispute"
)

func FuzzValidateMessage(f *testing.F) {
	for _, s := range []string{"", " ", "\t\n", "hello", "a\x00b", "\xff\xfe", "\u00e9t\u00e9", "\u200b", "\u3000",
		strings.Repeat("x", dispute.MaxMessageLength), strings.Repeat("x", dispute.MaxMessageLength+1),
		strings.Repeat("\u00e9", dispute.MaxMessageLength), strings.Repeat("\u00e9", dispute.MaxMessageLength+1),
		"emoji \U0001F600", "\r\n", "<script>alert(1)</script>", "'; DROP TABLE resolutions; --"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, msg string, required bool) {
		err := dispute.ValidateMessage(msg, required)
		valid := utf8.ValidString(msg) && !strings.ContainsRune(msg, 0) &&
			utf8.RuneCountInString(msg) <= dispute.MaxMessageLength && (!required || strings.TrimSpace(msg) != "")
		if err == nil {
			if !valid {
				t.Fatalf("ValidateMessage(%q, %v) accepted an invalid message", msg, required)
			}
			return
		}
		if valid {
			t.Fatalf("ValidateMessage(%q, %v) refused a valid message: %v", msg, required, err)
		}
		var de *dispute.Error
		if !errors.As(err, &de) || de.Code != dispute.CodeInvalidArgument || de.Field != "message" {
			t.Fatalf("ValidateMessage(%q, %v) = %#v, want INVALID_ARGUMENT on message", msg, required, err)
		}
		if dispute.CodeOf(err) != dispute.CodeInvalidArgument || !errors.Is(err, dispute.ErrInvalidArgument) {
			t.Fatalf("ValidateMessage(%q): CodeOf/errors.Is disagree: %v", msg, err)
		}
		if !utf8.ValidString(de.Error()) || strings.Contains(de.Error(), msg) && len(msg) > 20 {
			t.Fatalf("ValidateMessage: the error text must be valid UTF-8 and must not echo the message: %q", de.Error())
		}
	})
}

// pick returns list[i] for i in range, and otherwise a value outside the list (an
// unknown enum value) built from raw.
func pick[T ~string](list []T, i uint8, raw string) T {
	if int(i) < len(list) {
		return list[i]
	}
	if int(i) == len(list) {
		return ""
	}
	return T(raw)
}

var (
	allActors  = []dispute.Actor{dispute.ActorCustomer, dispute.ActorMerchant, dispute.ActorPlatform, dispute.ActorSystem}
	allActions = []dispute.Action{dispute.ActionRespond, dispute.ActionAppeal, dispute.ActionWithdraw, dispute.ActionAccept,
		dispute.ActionDeny, dispute.ActionRequestMoreInfo, dispute.ActionRequestBuyerInfo, dispute.ActionRequestMerchantInfo,
		dispute.ActionMerchantWins, dispute.ActionMerchantRefund}
	allOutcomes = []dispute.Outcome{dispute.OutcomeNone, dispute.OutcomeCustomerWon, dispute.OutcomeMerchantWon, dispute.OutcomeWithdrawn}
	allRefunds  = []dispute.Refund{dispute.RefundUnset, dispute.RefundNone, dispute.RefundMerchant, dispute.RefundPlatform}
)

func FuzzPolicyApply(f *testing.F) {
	// status, issue, actor, action, outcome, refund, decidedBy, flags, infoRequests,
	// version, eventCount, message, raw (for unknown enum values), window (s), maxInfo
	f.Add(uint8(0), uint8(1), uint8(1), uint8(4), uint8(0), uint8(0), uint8(9), uint8(0), uint8(0), 1, 1, "No.", "x", int64(0), 0)
	f.Add(uint8(0), uint8(1), uint8(1), uint8(3), uint8(0), uint8(0), uint8(9), uint8(8), uint8(0), 1, 1, "", "x", int64(0), 0)
	f.Add(uint8(0), uint8(1), uint8(1), uint8(5), uint8(0), uint8(0), uint8(9), uint8(0), uint8(3), 4, 4, "More?", "x", int64(60), 3)
	f.Add(uint8(6), uint8(1), uint8(0), uint8(1), uint8(2), uint8(1), uint8(1), uint8(0), uint8(0), 3, 3, "Appeal", "x", int64(0), 0)
	f.Add(uint8(5), uint8(1), uint8(1), uint8(1), uint8(1), uint8(3), uint8(2), uint8(4), uint8(0), 5, 5, "Appeal", "x", int64(0), 0)
	f.Add(uint8(4), uint8(1), uint8(2), uint8(9), uint8(0), uint8(0), uint8(9), uint8(4), uint8(0), 9, 9, "", "x", int64(0), 0)
	f.Add(uint8(4), uint8(1), uint8(2), uint8(8), uint8(0), uint8(0), uint8(9), uint8(0), uint8(0), 9, 9, "\x00", "x", int64(-5), -1)
	f.Add(uint8(1), uint8(1), uint8(0), uint8(0), uint8(0), uint8(0), uint8(9), uint8(0), uint8(0), 2, 2, "   ", "x", int64(0), 0)
	f.Add(uint8(2), uint8(1), uint8(1), uint8(0), uint8(0), uint8(0), uint8(9), uint8(0), uint8(0), 2, 2, strings.Repeat("y", 10001), "x", int64(0), 0)
	f.Add(uint8(9), uint8(9), uint8(9), uint8(11), uint8(9), uint8(9), uint8(9), uint8(255), uint8(255), -1, -1, "hi", "bogus", int64(1), 1)
	f.Add(uint8(3), uint8(1), uint8(3), uint8(0), uint8(0), uint8(0), uint8(9), uint8(0), uint8(0), 2, 2, "system", "x", int64(0), 0)
	f.Fuzz(func(t *testing.T, status, issue, actorI, actionI, outcomeI, refundI, decidedI, flags, infoRequests uint8,
		version, eventCount int, message, raw string, windowSecs int64, maxInfo int) {
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		due := now.Add(-time.Hour)
		c := dispute.Case{
			ID: "reso_01jd2k7q1x4m8n9p0r3s5t6v7w", Status: pick(dispute.Statuses, status, raw), Issue: pick(dispute.Issues, issue, raw),
			CompanyID: "biz_1", UserID: "user_1", PaymentID: "pay_1",
			CreatedAt: now.Add(-48 * time.Hour), UpdatedAt: now.Add(-2 * time.Hour),
			CustomerAppealed: flags&1 != 0, MerchantAppealed: flags&2 != 0, PaymentRefunded: flags&4 != 0,
			Outcome: pick(allOutcomes, outcomeI, raw), Refund: pick(allRefunds, refundI, raw), DecidedBy: pick(allActors, decidedI, raw),
			InfoRequests: int(infoRequests), Version: version, EventCount: eventCount,
		}
		if flags&8 != 0 {
			c.MemberID = "mem_1"
		}
		if flags&16 != 0 {
			c.DueDate = &due
		}
		actor := pick(allActors, actorI, raw)
		action := pick(allActions, actionI, raw)
		in := dispute.Input{Message: message, TerminateMembership: flags&32 != 0}
		p := dispute.Policy{ResponseWindow: time.Duration(windowSecs) * time.Second, MaxInfoRequests: maxInfo}

		before := c
		var beforeDue time.Time
		if c.DueDate != nil {
			beforeDue = *c.DueDate
		}
		next, ev, eff, err := p.Apply(c, actor, action, in, now)
		if !reflect.DeepEqual(before, c) || (c.DueDate != nil && !c.DueDate.Equal(beforeDue)) {
			t.Fatalf("Apply mutated its input case")
		}
		allowed := p.Allowed(c, actor)
		if err != nil {
			var de *dispute.Error
			if !errors.As(err, &de) || !de.Code.Valid() {
				t.Fatalf("Apply(%s, %s, %s) = %#v, want a *dispute.Error with a known code", c.Status, actor, action, err)
			}
			switch de.Code {
			case dispute.CodeActionNotAllowed, dispute.CodeLimitReached:
				if slices.Contains(allowed, action) {
					t.Fatalf("%s refused %s by %s in %s although Allowed lists it", de.Code, action, actor, c.Status)
				}
				if !slices.Equal(de.Allowed, allowed) {
					t.Fatalf("refusal lists %v, Allowed says %v", de.Allowed, allowed)
				}
			case dispute.CodeInvalidArgument:
				if de.Field == "message" && dispute.ValidateMessage(message, false) == nil && strings.TrimSpace(message) != "" {
					t.Fatalf("message %q refused although valid", message)
				}
			default:
				t.Fatalf("Apply refused with %s, want ACTION_NOT_ALLOWED, LIMIT_REACHED or INVALID_ARGUMENT", de.Code)
			}
			if !reflect.DeepEqual(next, dispute.Case{}) || !reflect.DeepEqual(ev, dispute.Event{}) || eff != (dispute.Effects{}) {
				t.Fatalf("a refusal returned a result: %+v %+v %+v", next, ev, eff)
			}
			// A permitted action with a valid, non-blank message is never refused.
			if slices.Contains(allowed, action) && dispute.ValidateMessage(message, true) == nil {
				t.Fatalf("Apply(%s, %s, %s, %q) refused an allowed action: %v", c.Status, actor, action, message, err)
			}
			return
		}
		// Accepted.
		if !slices.Contains(allowed, action) {
			t.Fatalf("Apply accepted %s by %s in %s, which Allowed (%v) does not list", action, actor, c.Status, allowed)
		}
		if dispute.ValidateMessage(message, false) != nil {
			t.Fatalf("Apply accepted an invalid message %q", message)
		}
		if !next.Status.Valid() || next.Version != c.Version+1 || next.EventCount != c.EventCount+1 {
			t.Fatalf("next case %+v from %+v", next, c)
		}
		if ev.Position != next.EventCount || ev.FromStatus != c.Status || ev.ToStatus != next.Status ||
			ev.Reporter != actor || ev.Details != message || ev.ResolutionID != c.ID || !ev.CreatedAt.Equal(now) {
			t.Fatalf("event %+v for %s by %s on %+v", ev, action, actor, c)
		}
		if !ev.ViewableByCustomer && !ev.ViewableByMerchant {
			t.Fatalf("event hidden from both sides: %+v", ev)
		}
		if next.DueDate != nil && c.DueDate != nil && next.DueDate == c.DueDate {
			t.Fatalf("next case shares the input's DueDate pointer")
		}
		if next.Status.Open() {
			if next.Outcome != dispute.OutcomeNone && next.Status == c.Status && c.Outcome == dispute.OutcomeNone {
				t.Fatalf("open case with outcome %s", next.Outcome)
			}
		} else if next.Outcome == dispute.OutcomeNone || next.DecidedBy != actor || next.Refund == dispute.RefundUnset || next.DueDate != nil {
			t.Fatalf("closed case %+v after %s by %s", next, action, actor)
		}
		if eff.RefundPayment && (c.PaymentRefunded || !next.PaymentRefunded) {
			t.Fatalf("refund effect with payment refunded %v -> %v", c.PaymentRefunded, next.PaymentRefunded)
		}
		if c.PaymentRefunded && !next.PaymentRefunded {
			t.Fatalf("a refund was undone")
		}
		if eff.CancelMembership && (!in.TerminateMembership || c.MemberID == "") {
			t.Fatalf("membership cancelled without being asked or without a membership")
		}
		if next.InfoRequests < c.InfoRequests || next.InfoRequests > c.InfoRequests+1 {
			t.Fatalf("info requests %d -> %d", c.InfoRequests, next.InfoRequests)
		}
	})
}

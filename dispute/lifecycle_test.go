package dispute

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestOpen(t *testing.T) {
	p := DefaultPolicy()
	in := Case{ID: "reso_9", Issue: IssueForgotToCancel, CompanyID: "biz_1", UserID: "user_1",
		PaymentID: "pay_1", MemberID: "mem_1", Status: sCW, Version: 42, Outcome: OutcomeWithdrawn}
	c, ev, err := p.Open(in, "I forgot to cancel", now)
	if err != nil {
		t.Fatal(err)
	}
	due := now.Add(7 * 24 * time.Hour)
	wantCase := Case{ID: "reso_9", Status: sMR, Issue: IssueForgotToCancel, CompanyID: "biz_1",
		UserID: "user_1", PaymentID: "pay_1", MemberID: "mem_1", CreatedAt: now, UpdatedAt: now,
		DueDate: &due, Version: 1, EventCount: 1}
	if !reflect.DeepEqual(c, wantCase) {
		t.Errorf("case\n got %+v\nwant %+v", c, wantCase)
	}
	wantEv := Event{ResolutionID: "reso_9", Position: 1, Action: EventCreated, Reporter: cust,
		Details: "I forgot to cancel", FromStatus: sMR, ToStatus: sMR, ViewableByCustomer: true,
		ViewableByMerchant: true, CreatedAt: now}
	if ev != wantEv {
		t.Errorf("event\n got %+v\nwant %+v", ev, wantEv)
	}

	refusals := []struct {
		issue Issue
		msg   string
		field string
	}{
		{"", "hello", "issue"},
		{"FORGOT_TO_CANCEL", "hello", "issue"},
		{IssueItemNotReceived, "", "message"},
		{IssueItemNotReceived, " \n", "message"},
		{IssueItemNotReceived, strings.Repeat("é", MaxMessageLength+1), "message"},
	}
	for _, r := range refusals {
		_, _, err := p.Open(Case{ID: "reso_9", Issue: r.issue}, r.msg, now)
		var de *Error
		if !errors.As(err, &de) || de.Code != CodeInvalidArgument || de.Field != r.field {
			t.Errorf("Open(%q, %.10q): err = %v, want INVALID_ARGUMENT on %s", r.issue, r.msg, err, r.field)
		}
	}
}

func TestExpire(t *testing.T) {
	p := DefaultPolicy()
	late := oldDue.Add(time.Minute)
	rows := []struct {
		from     Status
		refunded bool
		to       Status
		ev       EventAction
		refund   Refund
		outcome  Outcome
	}{
		{sMR, false, sUR, EventEscalated, RefundUnset, OutcomeNone},
		{sMI, false, sUR, EventEscalated, RefundUnset, OutcomeNone},
		{sCR, false, sMW, EventDenied, RefundNone, OutcomeMerchantWon},
		{sCI, false, sMW, EventDenied, RefundNone, OutcomeMerchantWon},
		{sCI, true, sMW, EventDenied, RefundPlatform, OutcomeMerchantWon},
	}
	for _, r := range rows {
		c := fixture(r.from)
		c.PaymentRefunded = r.refunded
		n, ev, ok := p.Expire(c, late)
		if !ok {
			t.Errorf("%s: nothing expired", r.from)
			continue
		}
		wantDecider := Actor("")
		if r.outcome != OutcomeNone {
			wantDecider = ActorSystem
		}
		if n.Status != r.to || n.Refund != r.refund || n.Outcome != r.outcome || n.DecidedBy != wantDecider ||
			n.DueDate != nil || n.Version != 6 || n.EventCount != 6 || !n.UpdatedAt.Equal(late) {
			t.Errorf("%s: case %+v", r.from, n)
		}
		wantEv := Event{ResolutionID: "reso_1", Position: 6, Action: r.ev, Reporter: ActorSystem,
			FromStatus: r.from, ToStatus: r.to, ViewableByCustomer: true, ViewableByMerchant: true, CreatedAt: late}
		if ev != wantEv {
			t.Errorf("%s: event\n got %+v\nwant %+v", r.from, ev, wantEv)
		}
	}

	// Exactly at the deadline counts as past due; a nanosecond before does not.
	if _, _, ok := p.Expire(fixture(sMR), oldDue); !ok {
		t.Error("not expired at the deadline")
	}
	if _, _, ok := p.Expire(fixture(sMR), oldDue.Add(-time.Nanosecond)); ok {
		t.Error("expired before the deadline")
	}
	for _, s := range []Status{sUR, sCW, sMW, sCD} {
		c := fixture(s)
		if _, _, ok := p.Expire(c, late); ok {
			t.Errorf("%s without a deadline expired", s)
		}
		d := t0 // a stray deadline must not close or reopen anything
		c.DueDate = &d
		if _, _, ok := p.Expire(c, late); ok {
			t.Errorf("%s with a stray deadline expired", s)
		}
	}
}

func TestRecord(t *testing.T) {
	p := DefaultPolicy()
	for _, s := range []Status{sMR, sUR, sCW} {
		for _, a := range []EventAction{EventDisputeOpened, EventDisputeCustomerWon, EventDisputeMerchantWon} {
			c := fixture(s)
			n, ev, err := p.Record(c, a, "chargeback ch_1", now)
			if err != nil {
				t.Fatalf("%s/%s: %v", s, a, err)
			}
			want := fixture(s)
			want.UpdatedAt, want.Version, want.EventCount = now, 6, 6
			if !reflect.DeepEqual(n, want) || !reflect.DeepEqual(c, fixture(s)) {
				t.Errorf("%s/%s: case %+v", s, a, n)
			}
			wantEv := Event{ResolutionID: "reso_1", Position: 6, Action: a, Reporter: plat,
				Details: "chargeback ch_1", FromStatus: s, ToStatus: s, ViewableByCustomer: true,
				ViewableByMerchant: true, CreatedAt: now}
			if ev != wantEv {
				t.Errorf("%s/%s: event %+v", s, a, ev)
			}
		}
	}
	for _, a := range []EventAction{EventCreated, EventAccepted, EventEscalated, "dispute_lost"} {
		if _, _, err := p.Record(fixture(sMR), a, "", now); CodeOf(err) != CodeInvalidArgument {
			t.Errorf("Record(%s): err = %v", a, err)
		}
	}
	_, _, err := p.Record(fixture(sMR), EventDisputeOpened, "a\x00b", now)
	var de *Error
	if !errors.As(err, &de) || de.Field != "details" {
		t.Errorf("Record with NUL details: %v", err)
	}
}

func TestValidateMessage(t *testing.T) {
	tests := []struct {
		name     string
		msg      string
		required bool
		ok       bool
	}{
		{"empty required", "", true, false},
		{"blank required", " \t\n", true, false},
		{"empty optional", "", false, true},
		{"one character", "x", true, true},
		{"10000 runes", strings.Repeat("€", 10000), true, true},
		{"10001 runes", strings.Repeat("€", 10001), true, false},
		{"10001 runes optional", strings.Repeat("a", 10001), false, false},
		{"NUL", "a\x00b", true, false},
		{"NUL optional", "\x00", false, false},
		{"invalid UTF-8", "a\xffb", true, false},
		{"newlines and emoji", "line 1\nline 2 🙂", true, true},
	}
	for _, tt := range tests {
		err := ValidateMessage(tt.msg, tt.required)
		if tt.ok {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var de *Error
		if !errors.As(err, &de) || de.Code != CodeInvalidArgument || de.Field != "message" {
			t.Errorf("%s: err = %v, want INVALID_ARGUMENT on message", tt.name, err)
		}
	}
}

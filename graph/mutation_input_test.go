package graph_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// Bad input on the case mutations is refused with a typed userError naming the field,
// and changes nothing.

func TestMutationInput(t *testing.T) {
	runSuites(t,
		suite{"messages", messageValidation},
		suite{"open resolution", openResolutionValidation},
		suite{"resolution IDs", malformedAndUnknownResolutionIDs},
		suite{"closed cases", actionsOnClosedCases},
	)
}

// badMessages are refused wherever a message is given; blank ones only where required.
var (
	badMessages   = map[string]any{"10,001 characters": strings.Repeat("a", 10001), "NUL byte": "before\x00after", "10,001 two-byte characters": strings.Repeat("é", 10001)}
	blankMessages = map[string]any{"empty": "", "white space": " \n\t "}
)

func messageValidation(t *testing.T, e *caseEnv) {
	for _, tc := range []struct {
		op       string
		token    string
		state    caseState
		field    string // the message's field name
		required bool
		extra    map[string]any
	}{
		{"respondToResolution", e.cast.CustomerToken, openedCase, "message", true, nil},
		{"denyResolution", e.cast.CompanyToken, openedCase, "message", true, nil},
		{"requestMoreInfo", e.cast.TeamMemberToken, openedCase, "message", true, nil},
		{"appealResolution", e.cast.CustomerToken, afterSteps(did(dispute.ActorMerchant, dispute.ActionDeny)), "message", true, nil},
		{"requestBuyerInfo", e.cast.PlatformToken, openedCase, "message", true, nil},
		{"requestMerchantInfo", e.cast.PlatformToken, openedCase, "message", true, nil},
		{"withdrawResolution", e.cast.CustomerToken, openedCase, "message", false, nil},
		{"acceptResolution", e.cast.CompanyToken, openedCase, "message", false, nil},
		{"decideMerchantWins", e.cast.PlatformToken, openedCase, "message", false, nil},
		{"decideMerchantRefund", e.cast.PlatformToken, openedCase, "message", false, nil},
		{"recordChargebackEvent", e.cast.PlatformToken, openedCase, "details", false, map[string]any{"action": "DISPUTE_OPENED"}},
	} {
		id := tc.state(t, e)
		input := func(msg any, set bool) map[string]any {
			in := map[string]any{"resolutionId": id}
			for k, v := range tc.extra {
				in[k] = v
			}
			if set {
				in[tc.field] = msg
			}
			return in
		}
		before := e.caseSnapshot(t, id)
		refuse := map[string]any{}
		for k, v := range badMessages {
			refuse[k] = v
		}
		if tc.required {
			for k, v := range blankMessages {
				refuse[k] = v
			}
			// The schema types a required message String!: leaving it out, or sending
			// null, is a validation error of the request, not a userError.
			for _, r := range []mutResult{e.act(t, tc.token, tc.op, input(nil, false)), e.act(t, tc.token, tc.op, input(nil, true))} {
				wantValidationError(t, r)
			}
		}
		for name, msg := range refuse {
			r := e.act(t, tc.token, tc.op, input(msg, true))
			if len(r.Errors) > 0 || len(r.P.UserErrors) != 1 || r.P.UserErrors[0].Code != "INVALID_ARGUMENT" ||
				strOf(r.P.UserErrors[0].Field) != tc.field {
				t.Errorf("%s with %s message: %+v %s, want INVALID_ARGUMENT on %s", tc.op, name, r.Errors, toJSON(r.P.UserErrors), tc.field)
			}
		}
		e.expectSnapshot(t, id, before)

		// The longest message is 10,000 characters, not bytes.
		long := strings.Repeat("é", 10000)
		p := e.mustAct(t, tc.token, tc.op, input(long, true))
		if p.Event.Details == nil || *p.Event.Details != long {
			t.Errorf("%s: a 10,000-character message was not stored as sent", tc.op)
		}
	}
	// An optional message may be left out.
	for _, op := range []string{"withdrawResolution", "acceptResolution", "decideMerchantWins", "decideMerchantRefund"} {
		token := map[string]string{"withdrawResolution": e.cast.CustomerToken, "acceptResolution": e.cast.CompanyToken}[op]
		if token == "" {
			token = e.cast.PlatformToken
		}
		if p := e.mustAct(t, token, op, map[string]any{"resolutionId": openedCase(t, e)}); p.Event.Details != nil {
			t.Errorf("%s without message stored details %q", op, *p.Event.Details)
		}
	}
}

func openResolutionValidation(t *testing.T, e *caseEnv) {
	d := e.d
	openAs := func(token string, in map[string]any) mutResult { return e.act(t, token, "openResolution", in) }
	pay := e.cast.MustPayment(t, d)
	in := func(msg any) map[string]any {
		m := map[string]any{"paymentId": pay.ID, "issue": "ITEM_NOT_RECEIVED"}
		if msg != nil {
			m["message"] = msg
		}
		return m
	}
	wantValidationError(t, openAs(e.cast.CustomerToken, in(nil)))
	for name, msg := range mergeInputs(badMessages, blankMessages) {
		r := openAs(e.cast.CustomerToken, in(msg))
		if len(r.Errors) > 0 || len(r.P.UserErrors) != 1 || r.P.UserErrors[0].Code != "INVALID_ARGUMENT" || strOf(r.P.UserErrors[0].Field) != "message" {
			t.Errorf("open with %s message: %+v %s", name, r.Errors, toJSON(r.P.UserErrors))
		}
	}
	for _, bad := range []string{"nope", "", "pay_123", ids.New(ids.Resolution), strings.ToUpper(pay.ID)} {
		r := openAs(e.cast.CustomerToken, map[string]any{"paymentId": bad, "issue": "ITEM_NOT_RECEIVED", "message": "x"})
		wantUserError(t, r, "INVALID_ARGUMENT", "paymentId")
	}
	r := openAs(e.cast.CustomerToken, map[string]any{"paymentId": pay.ID, "issue": "NOT_AN_ISSUE", "message": "x"})
	wantTopError(t, r, "GRAPHQL_VALIDATION_FAILED") // the variable does not coerce
	if n := casesOnPayment(t, d, pay.ID); n != 0 {
		t.Fatalf("refused opens left %d cases", n)
	}

	// Unknown and foreign payments are the same NOT_FOUND.
	unknown := openAs(e.cast.CustomerToken, map[string]any{"paymentId": ids.New(ids.Payment), "issue": "ITEM_NOT_RECEIVED", "message": "x"})
	foreign := openAs(e.cast.OtherCustomerToken, map[string]any{"paymentId": pay.ID, "issue": "ITEM_NOT_RECEIVED", "message": "x"})
	wantTopError(t, unknown, "NOT_FOUND")
	if wantTopError(t, foreign, "NOT_FOUND").Message != unknown.Errors[0].Message {
		t.Errorf("foreign payment answers %q, unknown %q", foreign.Errors[0].Message, unknown.Errors[0].Message)
	}
	wantTopError(t, openAs(e.cast.CompanyToken, in("x")), "FORBIDDEN")
	wantTopError(t, openAs(e.cast.PlatformToken, in("x")), "FORBIDDEN")

	// 10,000 characters open the case; a second case on the payment already exists.
	first := e.mustAct(t, e.cast.CustomerToken, "openResolution", in(strings.Repeat("z", 10000)))
	wantUserError(t, openAs(e.cast.CustomerToken, in("again")), "ALREADY_EXISTS", "paymentId")
	// One case per payment, open or closed (README: a lost case is reopened by appeal).
	e.mustAct(t, e.cast.CustomerToken, "withdrawResolution", map[string]any{"resolutionId": first.Resolution.ID})
	wantUserError(t, openAs(e.cast.CustomerToken, in("again")), "ALREADY_EXISTS", "paymentId")

	// A refunded payment (by a case, or upstream) cannot be disputed.
	wantUserError(t, openAs(e.cast.CustomerToken, map[string]any{"paymentId": refundedPayment(t, e), "issue": "FORGOT_TO_CANCEL",
		"message": "x"}), "NOT_REFUNDABLE", "paymentId")
	accepted := e.cast.MustPayment(t, d)
	c := dbtest.MustOpen(t, d, accepted, dispute.IssueItemNotReceived, e.clock.Now()).Case
	dbtest.MustApply(t, d, c.ID, dispute.ActorMerchant, dispute.ActionAccept, "", e.clock.Now())
	r = openAs(e.cast.CustomerToken, map[string]any{"paymentId": accepted.ID, "issue": "FORGOT_TO_CANCEL", "message": "x"})
	if len(r.P.UserErrors) != 1 || (r.P.UserErrors[0].Code != "NOT_REFUNDABLE" && r.P.UserErrors[0].Code != "ALREADY_EXISTS") {
		t.Errorf("open on a payment refunded by its case: %+v %s", r.Errors, toJSON(r.P.UserErrors))
	}
}

// refundedPayment returns a payment of the customer refunded outside the resolution
// center (by the upstream payments system).
func refundedPayment(t *testing.T, e *caseEnv) string {
	pay := e.cast.MustPayment(t, e.d)
	_, err := e.d.Raw(context.Background(), nil, "UPDATE payments SET status = 'refunded', refunded_amount = total, refunded_at = ? WHERE id = ?",
		e.clock.Now(), pay.ID)
	if err != nil {
		t.Fatalf("refund payment: %v", err)
	}
	return pay.ID
}

func malformedAndUnknownResolutionIDs(t *testing.T, e *caseEnv) {
	real := openedCase(t, e)
	before := e.caseSnapshot(t, real)
	for op := range caseInputTypes {
		if op == "openResolution" {
			continue
		}
		input := func(id string) map[string]any { return map[string]any{"resolutionId": id, "message": "x"} }
		if op == "recordChargebackEvent" {
			input = func(id string) map[string]any { return map[string]any{"resolutionId": id, "action": "DISPUTE_OPENED"} }
		}
		for _, bad := range []string{"nope", "", "reso_", "reso_123", ids.New(ids.Payment), strings.ToUpper(real), real + "0"} {
			wantUserError(t, e.act(t, e.cast.PlatformToken, op, input(bad)), "INVALID_ARGUMENT", "resolutionId")
		}
		wantTopError(t, e.act(t, e.cast.PlatformToken, op, input(ids.New(ids.Resolution))), "NOT_FOUND")
	}
	e.expectSnapshot(t, real, before)
}

func actionsOnClosedCases(t *testing.T, e *caseEnv) {
	for _, tc := range []struct {
		name    string
		state   caseState
		token   string
		op      string
		allowed string // as the message names them
	}{
		{"withdrawn: customer respond", afterSteps(did(dispute.ActorCustomer, dispute.ActionWithdraw)), e.cast.CustomerToken, "respondToResolution", "none"},
		{"withdrawn: merchant accept", afterSteps(did(dispute.ActorCustomer, dispute.ActionWithdraw)), e.cast.CompanyToken, "acceptResolution", "none"},
		{"withdrawn: platform decides", afterSteps(did(dispute.ActorCustomer, dispute.ActionWithdraw)), e.cast.PlatformToken, "decideMerchantRefund", "none"},
		{"denied: customer respond", afterSteps(did(dispute.ActorMerchant, dispute.ActionDeny)), e.cast.CustomerToken, "respondToResolution", "appeal"},
		{"denied: customer withdraw", afterSteps(did(dispute.ActorMerchant, dispute.ActionDeny)), e.cast.CustomerToken, "withdrawResolution", "appeal"},
		{"denied: merchant accept", afterSteps(did(dispute.ActorMerchant, dispute.ActionDeny)), e.cast.TeamMemberToken, "acceptResolution", "none"},
		{"accepted: merchant appeal", afterSteps(did(dispute.ActorMerchant, dispute.ActionAccept)), e.cast.CompanyToken, "appealResolution", "none"},
		{"accepted: customer appeal", afterSteps(did(dispute.ActorMerchant, dispute.ActionAccept)), e.cast.CustomerToken, "appealResolution", "none"},
		{"platform refund: merchant deny", afterSteps(did(dispute.ActorPlatform, dispute.ActionMerchantRefund)), e.cast.CompanyToken, "denyResolution", "appeal"},
		{"platform refund: platform decides again", afterSteps(did(dispute.ActorPlatform, dispute.ActionMerchantRefund)), e.cast.PlatformToken, "decideMerchantWins", "none"},
		{"final: customer appeals twice", afterSteps(did(dispute.ActorMerchant, dispute.ActionDeny), did(dispute.ActorCustomer, dispute.ActionAppeal),
			did(dispute.ActorPlatform, dispute.ActionMerchantWins)), e.cast.CustomerToken, "appealResolution", "none"},
		{"final: merchant appeals after customer did", afterSteps(did(dispute.ActorMerchant, dispute.ActionDeny), did(dispute.ActorCustomer, dispute.ActionAppeal),
			did(dispute.ActorPlatform, dispute.ActionMerchantRefund)), e.cast.CompanyToken, "appealResolution", "none"},
	} {
		id := tc.state(t, e)
		before := e.caseSnapshot(t, id)
		r := e.act(t, tc.token, tc.op, map[string]any{"resolutionId": id, "message": "Still here."})
		ue := wantUserError(t, r, "ACTION_NOT_ALLOWED", "")
		allowed := tc.allowed
		if allowed != "none" {
			allowed = strings.ToUpper(allowed) // the API names actions by their enum names
		}
		if !strings.Contains(ue.Message, "allowed now: "+allowed) {
			t.Errorf("%s: message %q does not name the allowed actions (%s)", tc.name, ue.Message, allowed)
		}
		if w := wireName.FindString(ue.Message); w != "" {
			t.Errorf("%s: message %q uses the wire name %q instead of the schema's enum name", tc.name, ue.Message, w)
		}
		e.expectSnapshot(t, id, before)
	}
}

// wireName matches a lower-case wire name such as under_platform_review or
// request_more_info, which messages must not show (the API's names are upper case).
var wireName = regexp.MustCompile(`\b[a-z]+(_[a-z]+)+\b|^[a-z]+ may not|may not [a-z]+\b|allowed now: [a-z]+,`)

// wantValidationError checks that a request was refused before execution with
// GRAPHQL_VALIDATION_FAILED (so nothing ran: no data).
func wantValidationError(tb testing.TB, r mutResult) {
	tb.Helper()
	if len(r.Errors) == 0 || r.Errors[0].Code() != "GRAPHQL_VALIDATION_FAILED" || r.P.Resolution != nil || len(r.P.UserErrors) > 0 {
		tb.Errorf("want a top-level GRAPHQL_VALIDATION_FAILED and no data, got errors %+v payload %s", r.Errors, toJSON(r.P))
	}
}

func mergeInputs(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

package dispute

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestErrorsIs(t *testing.T) {
	sentinels := map[Code]error{
		CodeNotFound: ErrNotFound, CodeInvalidArgument: ErrInvalidArgument,
		CodeActionNotAllowed: ErrActionNotAllowed, CodeConflict: ErrConflict,
		CodeUnauthenticated: ErrUnauthenticated, CodeForbidden: ErrForbidden, CodeInternal: ErrInternal,
		CodeLimitReached: ErrLimitReached, CodeAlreadyExists: ErrAlreadyExists,
		CodeNotRefundable: ErrNotRefundable, CodeUnavailable: ErrUnavailable, CodeRateLimited: ErrRateLimited,
		CodeResponseTooLarge: ErrResponseTooLarge, CodeCanceled: ErrCanceled,
	}
	made := map[Code]*Error{
		CodeNotFound:         NotFound("no such case"),
		CodeInvalidArgument:  Invalid("message", "is required"),
		CodeActionNotAllowed: NotAllowed("no", []Action{ActionRespond}),
		CodeConflict:         Conflict("stale version"),
		CodeUnauthenticated:  Unauthenticated("no token"),
		CodeForbidden:        Forbidden("read-only token"),
		CodeInternal:         Internal("boom"),
		CodeLimitReached:     LimitReached("3 of 3", nil),
		CodeAlreadyExists:    AlreadyExists("open case on this payment"),
		CodeNotRefundable:    NotRefundable("already refunded"),
		CodeUnavailable:      Unavailable("database down"),
		CodeRateLimited:      RateLimited("slow down"),
		CodeResponseTooLarge: ResponseTooLarge("4 MiB at most"),
		CodeCanceled:         Canceled("the client went away"),
	}
	if len(sentinels) != len(Codes) || len(made) != len(Codes) {
		t.Fatalf("test covers %d sentinels and %d constructors for %d codes", len(sentinels), len(made), len(Codes))
	}
	for code, e := range made {
		if e.Code != code || !code.Valid() {
			t.Errorf("constructor for %s made %s", code, e.Code)
		}
		wrapped := fmt.Errorf("update reso_1: %w", e)
		for other, sentinel := range sentinels {
			if got := errors.Is(wrapped, sentinel); got != (other == code) {
				t.Errorf("errors.Is(%s, %s) = %v", code, other, got)
			}
		}
		if CodeOf(wrapped) != code {
			t.Errorf("CodeOf(wrapped %s) = %s", code, CodeOf(wrapped))
		}
	}
	if errors.Is(io.EOF, ErrNotFound) {
		t.Error("a foreign error matched a sentinel")
	}
	if Code("TEAPOT").Valid() {
		t.Error("unknown code is valid")
	}
}

func TestCodeOf(t *testing.T) {
	tests := []struct {
		err  error
		want Code
	}{
		{nil, ""},
		{io.EOF, CodeInternal},
		{fmt.Errorf("read: %w", io.EOF), CodeInternal},
		{ErrConflict, CodeConflict},
		{&Error{}, CodeInternal},
		{errors.Join(io.EOF, NotFound("x")), CodeNotFound},
	}
	for _, tt := range tests {
		if got := CodeOf(tt.err); got != tt.want {
			t.Errorf("CodeOf(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{Invalid("message", "is required"), "message: is required"},
		{NotFound("resolution not found"), "resolution not found"},
		{ErrActionNotAllowed, "action not allowed"},
		{&Error{Code: CodeInvalidArgument, Field: "issue"}, "issue: invalid argument"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	_, _, _, err := DefaultPolicy().Apply(fixture(sCD), cust, ActionRespond, Input{Message: "x"}, now)
	want := "customer may not respond while the case is customer_withdrew; allowed now: none"
	if err == nil || err.Error() != want {
		t.Errorf("refusal text = %v, want %q", err, want)
	}
}

func TestErrorTextRenamesWireNames(t *testing.T) {
	_, _, _, err := DefaultPolicy().Apply(fixture(sUR), cust, ActionAppeal, Input{Message: "x"}, now)
	var de *Error
	if !errors.As(err, &de) {
		t.Fatalf("Apply = %v, want a *Error", err)
	}
	upper := strings.ToUpper
	want := "CUSTOMER may not APPEAL while the case is UNDER_PLATFORM_REVIEW; allowed now: RESPOND, WITHDRAW"
	if got := de.Text(upper); got != want {
		t.Errorf("Text(upper) = %q, want %q", got, want)
	}
	if got, want := de.Error(), "customer may not appeal while the case is under_platform_review; allowed now: respond, withdraw"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	guard := &Error{Code: CodeLimitReached, Message: "used up", Allowed: []Action{ActionAccept}}
	if got, want := guard.Text(upper), "used up; allowed now: ACCEPT"; got != want {
		t.Errorf("Text(upper) = %q, want %q", got, want)
	}
	if got, want := (&Error{Code: CodeLimitReached, Message: "at most 3"}).Text(upper), "at most 3"; got != want {
		t.Errorf("Text without an allowed list = %q, want %q", got, want)
	}
}

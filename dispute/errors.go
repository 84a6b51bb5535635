package dispute

import (
	"errors"
	"strings"
)

// Code is the machine-readable kind of an error. The set is closed: the db layer
// maps driver errors onto it and the GraphQL error presenter puts it into
// extensions.code, so clients branch on codes, never on message text.
type Code string

// The error codes.
const (
	CodeNotFound         Code = "NOT_FOUND"
	CodeInvalidArgument  Code = "INVALID_ARGUMENT"
	CodeActionNotAllowed Code = "ACTION_NOT_ALLOWED"
	CodeConflict         Code = "CONFLICT"
	CodeUnauthenticated  Code = "UNAUTHENTICATED"
	CodeForbidden        Code = "FORBIDDEN"
	CodeInternal         Code = "INTERNAL"
	CodeLimitReached     Code = "LIMIT_REACHED"
	CodeAlreadyExists    Code = "ALREADY_EXISTS"
	CodeNotRefundable    Code = "NOT_REFUNDABLE"
	// CodeUnavailable means a dependency (the database) is down or the request timed
	// out; retrying later may succeed.
	CodeUnavailable Code = "UNAVAILABLE"
	// CodeRateLimited means the principal spent its budget; retry after the time given.
	CodeRateLimited Code = "RATE_LIMITED"
	// CodeResponseTooLarge means the response would exceed the server's size budget;
	// ask for less (smaller pages, fewer fields or aliases).
	CodeResponseTooLarge Code = "RESPONSE_TOO_LARGE"
	// CodeCanceled means the client went away (or canceled) before the answer was
	// ready: nothing is wrong with the server or the database.
	CodeCanceled Code = "CANCELED"
)

// Codes lists every code in a stable order.
var Codes = []Code{
	CodeNotFound, CodeInvalidArgument, CodeActionNotAllowed, CodeConflict, CodeUnauthenticated,
	CodeForbidden, CodeInternal, CodeLimitReached, CodeAlreadyExists, CodeNotRefundable,
	CodeUnavailable, CodeRateLimited, CodeResponseTooLarge, CodeCanceled,
}

// Valid reports whether c is one of the codes.
func (c Code) Valid() bool {
	for _, v := range Codes {
		if v == c {
			return true
		}
	}
	return false
}

// defaultText is what Error says when an error carries no message of its own.
func (c Code) defaultText() string {
	return strings.ReplaceAll(strings.ToLower(string(c)), "_", " ")
}

// Error is a typed refusal. Code says what kind of refusal it is; Field names the
// offending input for INVALID_ARGUMENT; Allowed lists what the actor may do
// instead for ACTION_NOT_ALLOWED and LIMIT_REACHED, so a client can recover
// without a second round trip.
//
// The names of statuses, actors and actions in a refusal are kept as data
// (Refused, Allowed) rather than spelled into Message, so that each surface
// renders them in its own vocabulary: Error gives the wire names (for logs),
// and Text takes the renaming (the GraphQL API shows its enum names).
type Error struct {
	Code    Code
	Field   string
	Message string
	Allowed []Action
	// Refused, when set, is the action the transition table has no row for; Text
	// then composes the sentence and Message is empty.
	Refused *Refusal
}

// Refusal names who asked for what while the case was in which status.
type Refusal struct {
	Actor  Actor
	Action Action
	Status Status
}

// Error returns the human-readable text with wire names: the field, then the
// message. The code is not repeated because it travels separately
// (extensions.code).
func (e *Error) Error() string {
	msg := e.Text(nil)
	if e.Field != "" {
		return e.Field + ": " + msg
	}
	return msg
}

// Text returns the message without the field, with every status, actor and action
// name passed through name (nil keeps the wire names). For ACTION_NOT_ALLOWED and
// LIMIT_REACHED with a list of allowed actions (nil: no list known), the text ends
// with "; allowed now: ..." ("none" for an empty list).
func (e *Error) Text(name func(wire string) string) string {
	if name == nil {
		name = func(s string) string { return s }
	}
	msg := e.Message
	if r := e.Refused; r != nil && msg == "" {
		msg = name(string(r.Actor)) + " may not " + name(string(r.Action)) + " while the case is " + name(string(r.Status))
	}
	if msg == "" {
		msg = e.Code.defaultText()
	}
	if (e.Code == CodeActionNotAllowed || e.Code == CodeLimitReached) && e.Allowed != nil {
		msg += "; allowed now: " + list(e.Allowed, name)
	}
	return msg
}

// Is matches any *Error with the same code, which makes the sentinels below
// work with errors.Is whatever the message, field or allowed list.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e != nil && t != nil && t.Code == e.Code
}

// Sentinels for errors.Is. Compare against these; never return them directly
// when a more specific message is available.
var (
	ErrNotFound         = &Error{Code: CodeNotFound}
	ErrInvalidArgument  = &Error{Code: CodeInvalidArgument}
	ErrActionNotAllowed = &Error{Code: CodeActionNotAllowed}
	ErrConflict         = &Error{Code: CodeConflict}
	ErrUnauthenticated  = &Error{Code: CodeUnauthenticated}
	ErrForbidden        = &Error{Code: CodeForbidden}
	ErrInternal         = &Error{Code: CodeInternal}
	ErrLimitReached     = &Error{Code: CodeLimitReached}
	ErrAlreadyExists    = &Error{Code: CodeAlreadyExists}
	ErrNotRefundable    = &Error{Code: CodeNotRefundable}
	ErrUnavailable      = &Error{Code: CodeUnavailable}
	ErrRateLimited      = &Error{Code: CodeRateLimited}
	ErrResponseTooLarge = &Error{Code: CodeResponseTooLarge}
	ErrCanceled         = &Error{Code: CodeCanceled}
)

// NotFound reports that something does not exist or must not be revealed.
func NotFound(msg string) *Error { return &Error{Code: CodeNotFound, Message: msg} }

// Invalid reports a malformed input; field is its GraphQL argument name.
func Invalid(field, msg string) *Error {
	return &Error{Code: CodeInvalidArgument, Field: field, Message: msg}
}

// NotAllowed reports an action the table does not permit now, with the actions
// that are permitted.
func NotAllowed(msg string, allowed []Action) *Error {
	return &Error{Code: CodeActionNotAllowed, Message: msg, Allowed: allowed}
}

// Conflict reports that the case moved on since the caller read it.
func Conflict(msg string) *Error { return &Error{Code: CodeConflict, Message: msg} }

// Unauthenticated reports a missing or unknown token.
func Unauthenticated(msg string) *Error { return &Error{Code: CodeUnauthenticated, Message: msg} }

// Forbidden reports a known principal lacking a scope.
func Forbidden(msg string) *Error { return &Error{Code: CodeForbidden, Message: msg} }

// Internal reports an unexpected failure; presenters hide its text.
func Internal(msg string) *Error { return &Error{Code: CodeInternal, Message: msg} }

// LimitReached reports that a counted action was used up.
func LimitReached(msg string, allowed []Action) *Error {
	return &Error{Code: CodeLimitReached, Message: msg, Allowed: allowed}
}

// AlreadyExists reports a uniqueness clash, such as a second open case on one payment.
func AlreadyExists(msg string) *Error { return &Error{Code: CodeAlreadyExists, Message: msg} }

// NotRefundable reports a payment that cannot be disputed or refunded.
func NotRefundable(msg string) *Error { return &Error{Code: CodeNotRefundable, Message: msg} }

// Unavailable returns an UNAVAILABLE error.
func Unavailable(msg string) *Error { return &Error{Code: CodeUnavailable, Message: msg} }

// RateLimited returns a RATE_LIMITED error.
func RateLimited(msg string) *Error { return &Error{Code: CodeRateLimited, Message: msg} }

// ResponseTooLarge returns a RESPONSE_TOO_LARGE error.
func ResponseTooLarge(msg string) *Error { return &Error{Code: CodeResponseTooLarge, Message: msg} }

// Canceled returns a CANCELED error.
func Canceled(msg string) *Error { return &Error{Code: CodeCanceled, Message: msg} }

// CodeOf returns the code of the first *Error in err's chain: "" for nil and
// INTERNAL for anything that is not a typed domain error.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e != nil && e.Code != "" {
		return e.Code
	}
	return CodeInternal
}

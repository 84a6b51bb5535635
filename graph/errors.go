package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"resolutioncenter/dispute"
)

// Codes of request errors besides the domain's closed set (dispute.Codes). Documents
// that do not parse carry GRAPHQL_PARSE_FAILED; documents that do not validate against
// the schema, variables that do not coerce, an unknown operation name and documents over
// a limit (depth, cost, shape) carry GRAPHQL_VALIDATION_FAILED, so clients can tell a
// broken document (a bug in the client) from a refused input (INVALID_ARGUMENT).
const (
	CodeParseFailed      = errcode.ParseFailed      // GRAPHQL_PARSE_FAILED
	CodeValidationFailed = errcode.ValidationFailed // GRAPHQL_VALIDATION_FAILED
	// CodePersistedQueryNotFound: a persisted query's hash is not known (APQ: send the
	// query with it; trusted documents: the document is not in the manifest).
	CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
	// CodePersistedQueryNotAllowed: PERSISTED_ONLY refuses a free-form query.
	CodePersistedQueryNotAllowed = "PERSISTED_QUERY_NOT_ALLOWED"
)

// presentError puts a code in extensions.code of every error. Domain errors keep their
// message (with the API's enum names), field and the actions allowed now; parse and
// validation errors carry GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED; an error of
// a request whose client went away is CANCELED (but one whose credential was revoked or
// expired meanwhile stays UNAUTHENTICATED), one that ran out of time UNAVAILABLE;
// anything unexpected is logged with detail and shown as "internal error".
func presentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		// The client went away (or canceled): whatever failed failed because of that,
		// and must not count as the database's failure (UNAVAILABLE) or ours.
		if errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled) {
			if credentialEnded(ctx, err, gqlErr) {
				return gqlErr
			}
			gqlErr.Message = "request canceled"
			gqlErr.Extensions = map[string]any{"code": string(dispute.CodeCanceled)}
			return gqlErr
		}
		var de *dispute.Error
		if errors.As(err, &de) {
			gqlErr.Message = errorText(de)
			ext := map[string]any{"code": string(de.Code)}
			if de.Field != "" {
				ext["field"] = de.Field
			} else if f := inputField(de, gqlErr.Path); f != "" {
				ext["field"] = f
			}
			if de.Code == dispute.CodeActionNotAllowed || de.Code == dispute.CodeLimitReached {
				ext["allowedActions"] = actionNames(de.Allowed)
			}
			gqlErr.Extensions = ext
			return gqlErr
		}
		if errors.Is(err, context.DeadlineExceeded) {
			gqlErr.Message = "request timed out"
			gqlErr.Extensions = map[string]any{"code": string(dispute.CodeUnavailable)}
			return gqlErr
		}
		var ge *gqlerror.Error
		// Errors gqlgen raised itself before or while executing: bad documents,
		// validation, variable coercion, the document limits. Their text is safe and
		// useful, and their codes are the ones GraphQL clients know.
		if code, ok := gqlErr.Extensions["code"].(string); ok {
			switch code {
			case errcode.ParseFailed, errcode.ValidationFailed:
				return gqlErr
			case "COMPLEXITY_LIMIT_EXCEEDED":
				// Over a document limit, like depth and shape: refused by validation.
				gqlErr.Extensions["code"] = errcode.ValidationFailed
				return gqlErr
			case CodePersistedQueryNotFound, CodePersistedQueryNotAllowed:
				// APQ's miss keeps its code: Apollo clients resend the query on it.
				return gqlErr
			}
			if dispute.Code(code).Valid() {
				return gqlErr // raised by our own extensions with a code of the closed set
			}
		}
		// gqlgen's own refusals before execution (APQ hash mismatch, introspection
		// disabled...) carry no path and no code: they are the client's business.
		if errors.As(err, &ge) && len(ge.Path) == 0 && gqlErr.Extensions["code"] == nil {
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			gqlErr.Extensions["code"] = string(dispute.CodeInvalidArgument)
			return gqlErr
		}
		if errors.As(err, &ge) && ge.Rule != "" || isInputError(err) {
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			gqlErr.Extensions["code"] = errcode.ValidationFailed
			return gqlErr
		}
		logger.ErrorContext(ctx, "internal error", "err", err, "path", gqlErr.Path.String())
		return &gqlerror.Error{Message: "internal error", Path: gqlErr.Path,
			Extensions: map[string]any{"code": string(dispute.CodeInternal)}}
	}
}

// errorText is a domain error's message as the API shows it: statuses, actors and
// actions by their GraphQL enum names (UNDER_PLATFORM_REVIEW, not
// under_platform_review), without the field (it travels separately).
func errorText(de *dispute.Error) string { return de.Text(enumName) }

// credentialEnded reports whether a canceled request's error is its credential's end
// (revoked or expired while it ran), which the client must learn as UNAUTHENTICATED,
// and makes gqlErr say so.
func credentialEnded(ctx context.Context, err error, gqlErr *gqlerror.Error) bool {
	if code, _ := gqlErr.Extensions["code"].(string); code == string(dispute.CodeUnauthenticated) {
		return true
	}
	var de *dispute.Error
	if errors.As(err, &de) && de.Code == dispute.CodeUnauthenticated {
		gqlErr.Message = errorText(de)
		gqlErr.Extensions = map[string]any{"code": string(de.Code)}
		return true
	}
	if end := credentialEnd(ctx); end != nil {
		gqlErr.Message = end.Message
		gqlErr.Extensions = end.Extensions
		return true
	}
	return false
}

// inputField names the argument an input scalar refused (a DateTime out of range, say),
// from the path gqlgen gives the error: the argument's path below the root field,
// "filter.createdAfter" or "input.paidAt". Scalars cannot know their field; every other
// INVALID_ARGUMENT names its own.
func inputField(de *dispute.Error, path ast.Path) string {
	if de.Code != dispute.CodeInvalidArgument || len(path) < 2 {
		return ""
	}
	parts := make([]string, 0, len(path)-1)
	for _, p := range path[1:] {
		parts = append(parts, fmt.Sprint(p))
	}
	return strings.Join(parts, ".")
}

// isInputError tells argument and variable coercion failures (which gqlgen wraps
// without a code) from real failures.
func isInputError(err error) bool {
	var ge *gqlerror.Error
	if !errors.As(err, &ge) {
		return false
	}
	return ge.Extensions != nil && ge.Extensions["code"] == errcode.ValidationFailed
}

// recoverPanic logs a panicking resolver and answers "internal error".
func recoverPanic(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		logger.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(v))
		return errors.New("internal error")
	}
}

func actionNames(a []dispute.Action) []string {
	out := make([]string, len(a))
	for i, v := range a {
		out[i] = enumName(string(v))
	}
	return out
}

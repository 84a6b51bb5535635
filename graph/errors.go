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

// presentError puts a code from the closed set in extensions.code of every error. Domain
// errors keep their message (and field, and the actions allowed now); parse, validation
// and coercion errors become INVALID_ARGUMENT; an error of a request whose client went
// away is CANCELED, one that ran out of time UNAVAILABLE; anything unexpected is
// logged with detail and shown as "internal error".
func presentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		// The client went away (or canceled): whatever failed failed because of that,
		// and must not count as the database's failure (UNAVAILABLE) or ours.
		if errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled) {
			gqlErr.Message = "request canceled"
			gqlErr.Extensions = map[string]any{"code": string(dispute.CodeCanceled)}
			return gqlErr
		}
		var de *dispute.Error
		if errors.As(err, &de) {
			gqlErr.Message = de.Message
			if gqlErr.Message == "" {
				gqlErr.Message = de.Error()
			}
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
		// validation, variable coercion. Their text is safe and useful.
		if code, ok := gqlErr.Extensions["code"].(string); ok {
			switch code {
			case errcode.ParseFailed, errcode.ValidationFailed, "GRAPHQL_OPERATION_NOT_FOUND", "COMPLEXITY_LIMIT_EXCEEDED":
				gqlErr.Extensions["code"] = string(dispute.CodeInvalidArgument)
				return gqlErr
			case "PERSISTED_QUERY_NOT_FOUND":
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
			gqlErr.Extensions["code"] = string(dispute.CodeInvalidArgument)
			return gqlErr
		}
		logger.ErrorContext(ctx, "internal error", "err", err, "path", gqlErr.Path.String())
		return &gqlerror.Error{Message: "internal error", Path: gqlErr.Path,
			Extensions: map[string]any{"code": string(dispute.CodeInternal)}}
	}
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

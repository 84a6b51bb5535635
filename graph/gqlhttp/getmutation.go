package gqlhttp

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// RefuseGETMutations is an operation-context extension that refuses a mutation sent
// over GET as soon as its operation is known, so that the extensions after it do not
// run for it: register it (handler.Server.Use) before any that charges the caller, a
// rate limit, and the 405 that GET answers costs the caller nothing. Without it GET
// still answers 405, but only after every operation-context extension has run.
type RefuseGETMutations struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = RefuseGETMutations{}

func (RefuseGETMutations) ExtensionName() string                   { return "RefuseGETMutations" }
func (RefuseGETMutations) Validate(graphql.ExecutableSchema) error { return nil }

func (RefuseGETMutations) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation || ctx.Value(viaGETKey{}) == nil {
		return nil
	}
	return &gqlerror.Error{Message: mutationOverGET, Err: errMutationOverGET, Extensions: map[string]any{"code": ErrorCode}}
}

// viaGETKey marks the context of an operation sent over GET.
type viaGETKey struct{}

const mutationOverGET = "mutations are not allowed over GET: use POST"

var errMutationOverGET = errors.New(mutationOverGET)

// refusedOverGET reports whether RefuseGETMutations refused the request.
func refusedOverGET(errs gqlerror.List) bool {
	for _, e := range errs {
		if errors.Is(e.Err, errMutationOverGET) {
			return true
		}
	}
	return false
}

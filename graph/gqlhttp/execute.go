package gqlhttp

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// execute runs a decoded GraphQL request and writes its response.
//
// Errors returned by CreateOperationContext (parse, validation, variable coercion,
// operation-context extensions such as complexity limits) are request errors: execution
// never starts, so the response has no "data" entry and its status depends on the media
// type. They go through the executor's DispatchError so that the error presenter and the
// response middleware see them.
func execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, mediaType string, params *graphql.RawParams, viaGET bool) {
	ctx := r.Context()
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		if opCtx != nil {
			ctx = graphql.WithOperationContext(ctx, opCtx)
		}
		resp := exec.DispatchError(ctx, errs)
		setContentType(w, mediaType)
		w.WriteHeader(requestErrorStatus(mediaType))
		writeResponse(w, resp, false)
		return
	}

	switch opCtx.Operation.Operation {
	case ast.Mutation:
		if viaGET {
			// GraphQL over HTTP: a mutation over GET MUST answer 405.
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, mediaType, http.StatusMethodNotAllowed, "mutations are not allowed over GET: use POST")
			return
		}
	case ast.Subscription:
		writeError(w, mediaType, requestErrorStatus(mediaType),
			"subscriptions are not supported over plain HTTP: use a streaming transport")
		return
	}

	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if resp == nil {
		// The client went away before the result was produced: nobody reads this.
		return
	}
	setContentType(w, mediaType)
	w.WriteHeader(http.StatusOK)
	writeResponse(w, resp, true)
}

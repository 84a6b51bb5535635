package gqlhttp

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync"

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
	if viaGET {
		ctx = context.WithValue(ctx, viaGETKey{}, true) // for RefuseGETMutations
	}
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil && viaGET && refusedOverGET(errs) {
		refuseMutationOverGET(w, mediaType)
		return
	}
	if errs != nil {
		if opCtx != nil {
			ctx = graphql.WithOperationContext(ctx, opCtx)
		}
		resp := exec.DispatchError(ctx, errs)
		setContentType(w, mediaType)
		status := requestErrorStatus(mediaType)
		if secs, limited := rateLimited(resp); limited {
			// Too many requests is a transport-level answer whatever the media type.
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			status = http.StatusTooManyRequests
		}
		w.WriteHeader(status)
		writeResponse(w, resp, false)
		return
	}

	switch opCtx.Operation.Operation {
	case ast.Mutation:
		if viaGET { // without RefuseGETMutations
			refuseMutationOverGET(w, mediaType)
			return
		}
	case ast.Subscription:
		writeError(w, mediaType, requestErrorStatus(mediaType),
			"subscriptions are not supported over plain HTTP: use a streaming transport")
		return
	}

	ctx, written := withWritten(ctx)
	defer written.done()
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if resp == nil {
		// The client went away before the result was produced: nobody reads this.
		return
	}
	setContentType(w, mediaType)
	// One write with its length: a response of tens of kilobytes goes out in one piece
	// instead of HTTP chunks.
	buf := bodyBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	writeResponse(buf, resp, true)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	if buf.Cap() <= maxPooledBody {
		bodyBuffers.Put(buf)
	}
}

// refuseMutationOverGET answers a mutation sent over GET: GraphQL over HTTP says it
// MUST be 405.
func refuseMutationOverGET(w http.ResponseWriter, mediaType string) {
	w.Header().Set("Allow", http.MethodPost)
	writeError(w, mediaType, http.StatusMethodNotAllowed, mutationOverGET)
}

// bodyBuffers holds response buffers between requests; larger ones are dropped.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBody = 1 << 20

// CodeRateLimited is the extensions.code of a rate-limit refusal.
const CodeRateLimited = "RATE_LIMITED"

// rateLimited reports whether a request error is a rate-limit refusal, and the seconds
// to wait (from extensions.retryAfter).
func rateLimited(resp *graphql.Response) (int, bool) {
	for _, e := range resp.Errors {
		if e.Extensions["code"] != CodeRateLimited {
			continue
		}
		secs := 1
		switch v := e.Extensions["retryAfter"].(type) {
		case int:
			secs = max(v, 1)
		case float64:
			secs = max(int(v), 1)
		}
		return secs, true
	}
	return 0, false
}

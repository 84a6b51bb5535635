package graph

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"

	"resolutioncenter/auth"
	"resolutioncenter/graph/gqlhttp"
)

// Planned execution of queries.
//
// gqlgen's executor gives every field of a response a context, a closure and a
// marshaller, and every element of a list of objects a goroutine: a page of 20 cases
// with their relations and 10 events each is about 2,100 fields and 220 list elements,
// some 42,000 allocations, and it costs several times what reading the rows costs (see
// BENCHMARKS.md). gqlgen's templates cannot be changed, so query operations take
// another path: plannedSchema wraps the generated executable schema, and for a query
// operation it has compiled (plan_compile.go) it fetches each level of the selection
// in one batched read per relation (plan_load.go, through db.Read) and writes the JSON
// straight into one buffer (plan_write.go), with no per-field context, closure or
// goroutine. gqlgen stays the front door: parsing, validation, the complexity, shape
// and depth limits, introspection, APQ, the rate limit and the response middleware
// (operation logs and metrics) run before and around Exec as before; mutations,
// subscriptions and anything the planner does not cover (unknown fields, introspection,
// @defer, arguments that do not coerce, rows that are missing) go to gqlgen's executor,
// counted by reason (rc_query_fallbacks_total).
//
// Both executors call the same functions for every rule: the resolvers' argument
// readers (listResolutions, toEventQuery, toFilter, the cursors), visibility
// (auth.Principal.RoleOn, db's scopes and byRole, loadNodes, emailVisibility), the
// action lists (model.Resolution's methods on dispute.Policy) and the encodings
// (model.AppendDateTime, model.Money.AppendAmount). The differential test
// (plan_diff_test.go) runs the tests' queries and random operations through both and
// requires the same answers.

// plannedSchema is the executable schema with planned execution of queries.
type plannedSchema struct {
	graphql.ExecutableSchema
	inner *executableSchema
	r     *Resolver
	rs    *readSchema
	cache *docCache[*planFamily]
	// onPlanned and onFallback count operations (metrics); either may be nil.
	onPlanned  func()
	onFallback func(reason string)
	// tracer, when set, opens a span per level read (as the loaders do per batch).
	tracer trace.Tracer
}

// planCacheSize bounds the documents whose plans are kept.
const planCacheSize = 1000

// maxVariants bounds the plans kept for one operation (one per combination of its
// Boolean variables' values); beyond it, a plan is compiled for each request.
const maxVariants = 16

func newPlannedSchema(inner *executableSchema, r *Resolver) *plannedSchema {
	return &plannedSchema{ExecutableSchema: inner, inner: inner, r: r, rs: newReadSchema(inner.Schema()),
		cache: newDocCache[*planFamily](planCacheSize, docCacheBytes)}
}

// planFamily holds the plans of one document, per operation name and Boolean
// variable values.
type planFamily struct {
	mu    sync.Mutex
	plans map[variantKey]planned
}

type variantKey struct {
	op   string
	bits string
}

// planned is a compiled plan or why there is none.
type planned struct {
	plan   *plan
	reason unsupported
}

// Exec runs query operations it can plan itself and delegates everything else.
func (s *plannedSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx.Operation == nil || opCtx.Operation.Operation != ast.Query {
		return s.inner.Exec(ctx)
	}
	ec := newExecutionContext(opCtx, s.inner, nil)
	var p *plan
	var reason unsupported
	s.guard(ctx, &reason, func() { p, reason = s.planFor(ctx, ec, opCtx) })
	if p == nil {
		s.fallback(reason)
		return s.inner.Exec(ctx)
	}
	done := false
	return func(ctx context.Context) *graphql.Response {
		if done {
			return nil
		}
		done = true
		var resp *graphql.Response
		var reason unsupported
		s.guard(ctx, &reason, func() { resp, reason = s.run(ctx, ec, opCtx, p) })
		if resp == nil {
			// Nothing was written or reported: gqlgen's executor answers instead.
			s.fallback(reason)
			return s.inner.Exec(ctx)(ctx)
		}
		if s.onPlanned != nil {
			s.onPlanned()
		}
		return resp
	}
}

// guard runs f; a panic in it (a bug of the planner) is logged and turns into the
// fallback reason "panic", so that gqlgen's executor answers instead.
func (s *plannedSchema) guard(ctx context.Context, reason *unsupported, f func()) {
	defer func() {
		if v := recover(); v != nil {
			if s.r.Logger != nil {
				s.r.Logger.ErrorContext(ctx, "planned execution panicked; gqlgen's executor answers", "panic", fmt.Sprint(v),
					"stack", string(debug.Stack()))
			}
			*reason = reasonPanic
		}
	}()
	f()
}

func (s *plannedSchema) fallback(reason unsupported) {
	if s.onFallback != nil {
		s.onFallback(string(reason))
	}
}

// planFor returns the cached plan of the operation, compiling it on first use.
func (s *plannedSchema) planFor(ctx context.Context, ec *executionContext, opCtx *graphql.OperationContext) (*plan, unsupported) {
	key, cacheable := variantOf(opCtx)
	fam, ok := s.cache.Get(ctx, opCtx.RawQuery)
	if !ok {
		fam = &planFamily{plans: map[variantKey]planned{}}
		s.cache.Add(ctx, opCtx.RawQuery, fam)
	}
	fam.mu.Lock()
	got, ok := fam.plans[key]
	fam.mu.Unlock()
	if ok {
		return got.plan, got.reason
	}
	p, reason := s.rs.compile(ctx, ec, opCtx)
	if cacheable {
		fam.mu.Lock()
		if len(fam.plans) < maxVariants*4 {
			fam.plans[key] = planned{p, reason}
		}
		fam.mu.Unlock()
	}
	return p, reason
}

// variantOf names the plan variant of a request: its operation and the values of its
// Boolean variables, which @skip and @include may read. A request with more than
// log2(maxVariants) such variables is not cached.
func variantOf(opCtx *graphql.OperationContext) (variantKey, bool) {
	k := variantKey{op: opCtx.OperationName}
	var bits []byte
	n := 0
	for _, vd := range opCtx.Operation.VariableDefinitions {
		if vd.Type == nil || vd.Type.Name() != "Boolean" || vd.Type.Elem != nil {
			continue
		}
		n++
		switch v, _ := opCtx.Variables[vd.Variable].(bool); {
		case opCtx.Variables[vd.Variable] == nil:
			bits = append(bits, 'n')
		case v:
			bits = append(bits, 't')
		default:
			bits = append(bits, 'f')
		}
	}
	k.bits = string(bits)
	return k, 1<<n <= maxVariants
}

// run executes a plan. It returns nil and a reason when gqlgen's executor must answer
// instead; then nothing was reported in ctx's response.
func (s *plannedSchema) run(ctx context.Context, ec *executionContext, opCtx *graphql.OperationContext, p *plan) (*graphql.Response, unsupported) {
	args, ok := p.argumentsOf(ctx, ec, opCtx.Variables)
	if !ok {
		return nil, reasonArgument
	}
	x := &run{ctx: ctx, s: s, plan: p, p: auth.FromContext(ctx), args: args}
	x.resolve()
	if x.abort != "" {
		return nil, x.abort
	}
	var held *[]byte
	x.w.buf, held = dataBuffer(ctx, int(p.sizeHint.Load())+512)
	if rb := ResponseBudgetFrom(ctx); rb != nil {
		x.w.budget = &planBudget{max: int(rb.Max())}
	}
	dataOK := x.writeData()
	if x.abort != "" {
		// Over MAX_RESPONSE_BYTES (reasonTooLarge) too: the data written so far may
		// still shrink, as an error later in the selection nulls an object already
		// written, so only gqlgen's executor, whose rule it is, can tell whether the
		// answer is RESPONSE_TOO_LARGE or a small one with errors.
		return nil, x.abort
	}
	p.sizeHint.Store(int64(len(x.w.buf)))
	if !dataOK {
		x.w.buf = append(x.w.buf[:0], "null"...)
	}
	if held != nil {
		*held = x.w.buf // the grown buffer goes back to the pool
	}
	for _, e := range x.w.errs {
		// As gqlgen reports a resolver's error: on its path, at its field.
		ge := gqlerror.WrapPath(e.path, e.err)
		ge.Locations = []gqlerror.Location{e.loc}
		graphql.AddError(ctx, ge)
	}
	return &graphql.Response{Data: x.w.buf}, ""
}

// dataBuffers keeps response buffers between requests whose transport gives them back
// once written (gqlhttp.OnWritten); a list page is tens of kilobytes.
var dataBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledData bounds the buffers kept.
const maxPooledData = 1 << 20

// dataBuffer returns an empty buffer of at least size bytes for the data of ctx's
// response, and, when the transport gives it back once written, the pool's holder to
// leave the final buffer in.
func dataBuffer(ctx context.Context, size int) ([]byte, *[]byte) {
	bp := dataBuffers.Get().(*[]byte)
	if !gqlhttp.OnWritten(ctx, func() {
		if cap(*bp) <= maxPooledData {
			dataBuffers.Put(bp)
		}
	}) {
		dataBuffers.Put(bp)
		return make([]byte, 0, size), nil
	}
	if cap(*bp) < size {
		*bp = make([]byte, 0, size)
	}
	return (*bp)[:0], bp
}

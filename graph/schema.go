package graph

import (
	"maps"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
)

// servedSchema is the schema the server validates documents against and introspects:
// the generated one without the @defer directive, which gqlparser's prelude declares
// in every schema.
//
// Incremental delivery is not offered, neither @defer nor @stream. gqlgen v0.17.98
// defers only the fields it resolves concurrently (a field read from the parent object
// stays in the initial payload), writes only the 2022 "deferSpec=20220824"
// multipart/mixed format (not the incremental format with pending/completed ids that
// current Apollo Client, urql and Relay handlers converge on, nor over SSE), and has
// no @stream at all. Doing both correctly means an executor of our own; a half-working
// @defer is worse than none: before this change a deferred fragment over plain POST
// answered its fields as null with "hasNext": true and never sent the rest. Without the
// directive in the schema, a document that uses @defer or @stream is refused by
// validation (GRAPHQL_VALIDATION_FAILED, "Unknown directive"), and clients that look at
// the schema (Apollo, urql, Relay compilers, GraphiQL) know not to send it.
var servedSchema = sync.OnceValue(func() *ast.Schema {
	s := *parsedSchema
	s.Directives = maps.Clone(parsedSchema.Directives)
	delete(s.Directives, "defer")
	return &s
})

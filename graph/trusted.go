package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"sort"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"resolutioncenter/dispute"
	"resolutioncenter/graph/gqlhttp"
)

// Documents is an allow-list of GraphQL documents registered ahead of time ("trusted
// documents", also called persisted documents or persisted operations): a frontend's
// build extracts every operation it sends into a manifest, the server loads the
// manifest, and the frontend then sends only the document's ID.
type Documents struct {
	byID  map[string]string // ID -> document
	texts map[string]bool   // the registered documents, for clients that send the text
}

// LoadDocuments reads a manifest file; see ParseDocuments.
func LoadDocuments(path string) (*Documents, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted documents: %w", err)
	}
	docs, err := ParseDocuments(data)
	if err != nil {
		return nil, fmt.Errorf("trusted documents %s: %w", path, err)
	}
	return docs, nil
}

// ParseDocuments reads a manifest in one of the formats client tool chains write:
//
//   - a JSON object mapping each ID to its document: graphql-codegen's client preset
//     (persisted-documents.json, IDs are SHA-256 hashes) and the Relay compiler
//     (persisted_queries.json, IDs are MD5 hashes by default);
//   - Apollo's persisted query manifest ({"format": "apollo-persisted-query-manifest",
//     "version": 1, "operations": [{"id", "name", "type", "body"}]}).
//
// IDs are opaque: they are looked up, never recomputed, so any hash function works.
// Every document must parse and validate against the schema the server serves, so a
// manifest built for another version of the schema fails at start, not at request
// time; the error names the first bad document.
func ParseDocuments(data []byte) (*Documents, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	byID := map[string]string{}
	if format, ok := raw["format"]; ok {
		var m struct {
			Format     string `json:"format"`
			Version    int    `json:"version"`
			Operations []struct {
				ID   string `json:"id"`
				Body string `json:"body"`
			} `json:"operations"`
		}
		if err := json.Unmarshal(data, &m); err != nil || m.Format != "apollo-persisted-query-manifest" || m.Version != 1 {
			return nil, fmt.Errorf("unknown manifest format %s (want a JSON object of ID to document, or apollo-persisted-query-manifest version 1)", format)
		}
		for _, op := range m.Operations {
			byID[op.ID] = op.Body
		}
	} else {
		for id, v := range raw {
			var doc string
			if err := json.Unmarshal(v, &doc); err != nil {
				return nil, fmt.Errorf("document %q is not a string", id)
			}
			byID[id] = doc
		}
	}
	d := &Documents{byID: byID, texts: make(map[string]bool, len(byID))}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		doc := byID[id]
		if id == "" || doc == "" {
			return nil, fmt.Errorf("document %q: empty ID or document", id)
		}
		q, errs := gqlparser.LoadQuery(servedSchema(), doc)
		if len(errs) > 0 {
			return nil, fmt.Errorf("document %q does not validate against the schema: %s", id, errs[0].Message)
		}
		if len(q.Operations) == 0 {
			return nil, fmt.Errorf("document %q has no operation", id)
		}
		d.texts[doc] = true
	}
	return d, nil
}

// Len is the number of registered documents.
func (d *Documents) Len() int { return len(d.byID) }

// Lookup returns the document registered under id. An ID in the GraphQL over HTTP
// spec's "sha256:<hex>" form also finds a manifest entry keyed by the bare hex hash,
// and a bare hash one keyed "sha256:<hex>" (graphql-codegen's client preset writes its
// manifest so, while Apollo Client's persisted-query link sends the bare hash).
func (d *Documents) Lookup(id string) (string, bool) {
	if doc, ok := d.byID[id]; ok {
		return doc, true
	}
	if hex, ok := strings.CutPrefix(id, "sha256:"); ok {
		doc, ok := d.byID[hex]
		return doc, ok
	}
	doc, ok := d.byID["sha256:"+id]
	return doc, ok
}

// trustedDocuments runs registered documents by ID. A request names one with
// extensions.persistedQuery.sha256Hash (Apollo Client, graphql-codegen's client preset)
// or documentId / doc_id (the GraphQL over HTTP draft, Relay), which the transports hand
// over as extensions.documentId. With only set (PERSISTED_ONLY), nothing else runs: a
// free-form query answers PERSISTED_QUERY_NOT_ALLOWED unless its text is exactly a
// registered document, or it selects only introspection fields while introspection is
// on (so GraphiQL and code generators can still read the schema where that is wanted).
type trustedDocuments struct {
	docs          *Documents
	only          bool
	apq           bool // automatic persisted queries handle unknown sha256 hashes
	introspection bool
	maxTokens     int // the parser's token limit, for the introspection-only check
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = trustedDocuments{}

func (trustedDocuments) ExtensionName() string                          { return "TrustedDocuments" }
func (trustedDocuments) Validate(schema graphql.ExecutableSchema) error { return nil }

func (t trustedDocuments) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	id, apqStyle := documentID(p.Extensions)
	if id == "" {
		if !t.only || t.docs.texts[p.Query] || t.introspection && introspectionOnly(p.Query, t.maxTokens) {
			return nil
		}
		return notAllowed()
	}
	doc, ok := t.docs.Lookup(id)
	if !ok {
		if apqStyle && !t.only && (t.apq || p.Query != "") {
			// An automatic persisted query: the APQ extension takes it from here; with
			// APQ off, one that brings its query runs it (nothing is registered), as an
			// Apollo client that sends both expects.
			return nil
		}
		if t.only && p.Query != "" {
			// The text came along (an APQ client registering it): it is what counts.
			if !t.docs.texts[p.Query] {
				return notAllowed()
			}
			doc = p.Query
		} else {
			return &gqlerror.Error{Message: "PersistedQueryNotFound: no registered document has this ID",
				Extensions: map[string]any{"code": CodePersistedQueryNotFound}}
		}
	}
	if p.Query != "" && p.Query != doc {
		return &gqlerror.Error{Message: "the query differs from the document registered under this ID",
			Extensions: map[string]any{"code": string(dispute.CodeInvalidArgument)}}
	}
	p.Query = doc
	// The document is resolved: APQ must neither look it up nor cache it.
	p.Extensions = maps.Clone(p.Extensions)
	delete(p.Extensions, "persistedQuery")
	delete(p.Extensions, gqlhttp.ExtensionDocumentID)
	return nil
}

func (t trustedDocuments) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if !t.only || t.docs.texts[oc.RawQuery] {
		return nil
	}
	if op := oc.Doc.Operations.ForName(oc.OperationName); op != nil && onlyIntrospection(op.SelectionSet, oc.Doc.Fragments, map[string]bool{}) {
		return nil
	}
	return notAllowed()
}

func notAllowed() *gqlerror.Error {
	return &gqlerror.Error{Message: "this server runs registered documents only: send a documentId (or extensions.persistedQuery.sha256Hash) from its manifest",
		Extensions: map[string]any{"code": CodePersistedQueryNotAllowed}}
}

// documentID returns the registered document a request names, and whether it was
// named the APQ way (extensions.persistedQuery.sha256Hash).
func documentID(ext map[string]any) (id string, apqStyle bool) {
	if s, ok := ext[gqlhttp.ExtensionDocumentID].(string); ok && s != "" {
		return s, false
	}
	if pq, ok := ext["persistedQuery"].(map[string]any); ok {
		if s, ok := pq["sha256Hash"].(string); ok && s != "" {
			return s, true
		}
	}
	return "", false
}

// introspectionOnly reports whether a free-form document parses and every operation
// in it selects only introspection fields. It runs before gqlgen parses and validates,
// so that a refused client learns nothing but PERSISTED_QUERY_NOT_ALLOWED.
func introspectionOnly(query string, maxTokens int) bool {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, maxTokens)
	if err != nil || len(doc.Operations) == 0 {
		return false
	}
	for _, op := range doc.Operations {
		if !onlyIntrospection(op.SelectionSet, doc.Fragments, map[string]bool{}) {
			return false
		}
	}
	return true
}

// onlyIntrospection reports whether a selection set selects nothing but __schema,
// __type and __typename, through fragments too (looked up in frags when the document
// is not validated yet).
func onlyIntrospection(set ast.SelectionSet, frags ast.FragmentDefinitionList, seen map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name != "__schema" && s.Name != "__type" && s.Name != "__typename" {
				return false
			}
		case *ast.InlineFragment:
			if !onlyIntrospection(s.SelectionSet, frags, seen) {
				return false
			}
		case *ast.FragmentSpread:
			def := s.Definition
			if def == nil {
				def = frags.ForName(s.Name)
			}
			if def == nil {
				return false
			}
			if !seen[s.Name] {
				seen[s.Name] = true
				if !onlyIntrospection(def.SelectionSet, frags, seen) {
					return false
				}
			}
		}
	}
	return true
}

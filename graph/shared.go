package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"resolutioncenter/auth"
	"resolutioncenter/dispute"
	"resolutioncenter/observe"
)

// Live fan-out marshals once. gqlgen executes a subscription's selection for every
// value its channel yields, so 10,000 subscribers of one case used to execute and
// marshal each event 10,000 times. Now every subscription registers with the hub under
// a class: the subscription's selection (subscriptionClass) and what its viewer may see
// of it (eventViewerClass, updateViewerClass). The hub hands all subscribers of a class
// the same pubsub.Share with each change; the first of them to respond executes the
// selection through gqlgen as before (so the bytes are what that subscriber would have
// got on its own), and the others send the kept response. Per subscriber remain the
// operation id (added by the transport), the final SLOW_CONSUMER error with its cursor,
// and the transport's write.

// responder is a subscription's stream as the response middleware sees it.
type responder interface {
	respond(ctx context.Context, next graphql.ResponseHandler) (resp *graphql.Response, computed bool)
	field() string
}

// sharedResponses is the innermost response middleware: a subscription fed by the hub
// answers from its stream (see hubStream.respond); everything else goes to gqlgen.
// metrics counts the executions (rc_fanout_payloads_total).
func sharedResponses(metrics *observe.Metrics) func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		e, _ := ctx.Value(streamEndKey{}).(*streamEnd)
		if e == nil || e.stream == nil {
			return next(ctx)
		}
		resp, computed := e.stream.respond(ctx, next)
		if computed && resp != nil {
			metrics.CountFanoutPayload(e.stream.field())
		}
		return resp
	}
}

// keptResponse is a class's response to one change: what a subscriber's execution
// returned, and, when it has no errors, its JSON as the transport would marshal it
// (wsproto sends those bytes as they are).
type keptResponse struct {
	resp    *graphql.Response
	payload []byte
}

// keepResponse keeps what a subscriber's execution returned for its class, with a
// copy of Data: gqlgen reuses the operation's buffer behind it for the next value.
func keepResponse(r *graphql.Response) *keptResponse {
	k := *r
	k.Data = bytes.Clone(r.Data)
	kept := &keptResponse{resp: &k}
	if len(k.Errors) == 0 {
		if b, err := json.Marshal(&k); err == nil {
			kept.payload = b
		}
	}
	return kept
}

// reuseResponse hands a kept response to one subscriber. The middleware around it may
// append to Errors; Data is never written to.
func reuseResponse(k *graphql.Response) *graphql.Response {
	r := *k
	r.Errors = slices.Clip(k.Errors)
	return &r
}

// subscriptionClass is the class a subscription registers with the hub: subscriptions
// with the same class receive the same bytes for the same change. It is the
// operation's document and name, the values of the variables used anywhere but in the
// subscription field's own arguments (resolutionId, after, filter choose which changes
// are delivered, not what a delivery looks like), and viewer, what the subscriber may
// see. Documents that differ in spelling only are different classes: that shares
// less, never wrongly.
func subscriptionClass(ctx context.Context, viewer string) string {
	oc := graphql.GetOperationContext(ctx)
	fc := graphql.GetFieldContext(ctx)
	if oc == nil || oc.Operation == nil || fc == nil {
		return "" // shares nothing
	}
	h := sha256.New()
	write := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	write(oc.RawQuery)
	write(oc.OperationName)
	for _, name := range variablesBeyond(oc.Doc, oc.Operation, fc.Field.Field) {
		b, err := json.Marshal(oc.Variables[name])
		if err != nil {
			return ""
		}
		write(name)
		write(string(b))
	}
	return string(h.Sum(nil)) + viewer
}

// variablesBeyond returns, sorted, the variables op uses other than in root's
// arguments: in other fields' arguments and in directives, fragments included.
func variablesBeyond(doc *ast.QueryDocument, op *ast.OperationDefinition, root *ast.Field) []string {
	used := map[string]bool{}
	var value func(v *ast.Value)
	value = func(v *ast.Value) {
		if v == nil {
			return
		}
		if v.Kind == ast.Variable {
			used[v.Raw] = true
		}
		for _, c := range v.Children {
			value(c.Value)
		}
	}
	directives := func(ds ast.DirectiveList) {
		for _, d := range ds {
			for _, a := range d.Arguments {
				value(a.Value)
			}
		}
	}
	fragments := map[string]bool{}
	var selections func(ast.SelectionSet)
	selections = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s != root {
					for _, a := range s.Arguments {
						value(a.Value)
					}
				}
				directives(s.Directives)
				selections(s.SelectionSet)
			case *ast.InlineFragment:
				directives(s.Directives)
				selections(s.SelectionSet)
			case *ast.FragmentSpread:
				directives(s.Directives)
				if fragments[s.Name] {
					continue
				}
				fragments[s.Name] = true
				def := s.Definition
				if def == nil && doc != nil {
					def = doc.Fragments.ForName(s.Name)
				}
				if def != nil {
					directives(def.Directives)
					selections(def.SelectionSet)
				}
			}
		}
	}
	directives(op.Directives)
	selections(op.SelectionSet)
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// eventViewerClass is what decides, besides the selection, the payload of an event for
// a subscriber: nothing a ResolutionEventEdge holds depends on the viewer today (which
// events a role sees is the hub's filter, before the class), but the role on the case
// and the manage scope are what a viewer-dependent field would depend on
// (TestEventEdgeReachesNoViewerField keeps that true), at the cost of at most six
// classes per selection.
func eventViewerClass(p *auth.Principal, role dispute.Actor) string {
	return "|event|" + string(role) + "|" + boolKey(p.CanManage())
}

// updateViewerClass is what decides, besides the selection, the payload of a changed
// case for a subscriber. A Resolution holds viewer-dependent fields (viewerActions,
// e-mails, companies, the events a role may see) for each case the subscription
// streams, so the class is the principal itself: its kind, who it is and what it acts
// for, and its scopes. Platform principals all see everything in the same way.
func updateViewerClass(p *auth.Principal) string {
	var b strings.Builder
	b.WriteString("|update|")
	b.WriteString(string(p.Kind))
	b.WriteString("|")
	b.WriteString(boolKey(p.CanManage()))
	if p.Kind != auth.KindPlatform {
		b.WriteString("|" + p.UserID + "|" + p.CompanyID + "|" + strings.Join(p.TeamCompanyIDs, ","))
	}
	return b.String()
}

func boolKey(b bool) string {
	if b {
		return "manage"
	}
	return "read"
}

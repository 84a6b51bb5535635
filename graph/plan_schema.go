package graph

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// The part of the read schema the planned executor knows: its object types, and for
// each of their fields what computes it. The table is checked against the schema when
// the server starts: a field whose arguments or type differ from what is written here
// (the schema grew) is dropped, and an operation selecting a dropped or unknown field
// falls back to gqlgen's executor ("unsupported_field"), so a schema change never
// breaks the planned path, it only leaves operations to gqlgen until the planner
// learns the field.
//
// Teaching the planner a field: add it to readFields (a new argument to its args, with
// its gqlgen-generated coercion in argsFuncs), write it in the type's writer
// (plan_write*.go) with the function its resolver uses, and, when it reaches rows of
// another table, ask for them in plan_expand.go and db.Reads. The differential test
// then compares it with gqlgen's answers for every role.

// objType is an object type (or the Node interface) of the read schema.
type objType uint8

const (
	tNone objType = iota
	tQuery
	tNode // the interface; its positions hold a selection per concrete type
	tResolution
	tCompany
	tUser
	tPayment
	tMembership
	tEvent
	tMoney
	tPageInfo
	tResolutionConnection
	tResolutionEdge
	tEventConnection
	tEventEdge
	tSummary
	tStatusCount
	tIssueCount
	tOutcomeCount
	tViewer
	tTokenConnection
	tTokenEdge
	tToken
	numObjTypes
)

// typeNames are the GraphQL names of the object types, as __typename answers them.
var typeNames = [numObjTypes]string{
	tQuery: "Query", tNode: "Node", tResolution: "Resolution", tCompany: "Company", tUser: "User", tPayment: "Payment",
	tMembership: "Membership", tEvent: "ResolutionEvent", tMoney: "Money", tPageInfo: "PageInfo",
	tResolutionConnection: "ResolutionConnection", tResolutionEdge: "ResolutionEdge",
	tEventConnection: "ResolutionEventConnection", tEventEdge: "ResolutionEventEdge", tSummary: "ResolutionSummary",
	tStatusCount: "StatusCount", tIssueCount: "IssueCount", tOutcomeCount: "OutcomeCount", tViewer: "Viewer",
	tTokenConnection: "ApiTokenConnection", tTokenEdge: "ApiTokenEdge", tToken: "ApiToken",
}

// nodeTypes are the object types implementing Node.
var nodeTypes = []objType{tResolution, tCompany, tUser, tPayment, tMembership, tEvent}

func objTypeNamed(name string) objType {
	for t, n := range typeNames {
		if n == name && t != int(tNone) {
			return objType(t)
		}
	}
	return tNone
}

// fieldKind names what computes a field.
type fieldKind uint8

const (
	fTypename fieldKind = iota + 1

	fQueryNode
	fQueryNodes
	fQueryViewer
	fQueryResolution
	fQueryResolutions
	fQuerySummary
	fQueryTokens

	fResID
	fResStatus
	fResIssue
	fResCreatedAt
	fResUpdatedAt
	fResDueDate
	fResCustomerAppealed
	fResMerchantAppealed
	fResCustomerActions
	fResMerchantActions
	fResPlatformActions
	fResViewerActions
	fResOutcome
	fResRefund
	fResVersion
	fResCompany
	fResUser
	fResPayment
	fResMember
	fResRecentEvents
	fResEvents

	fCompanyID
	fCompanyTitle
	fCompanyRoute
	fCompanyCreatedAt

	fUserID
	fUserName
	fUserUsername
	fUserEmail

	fPayID
	fPayCurrency
	fPayTotal
	fPaySubtotal
	fPayRefunded
	fPayStatus
	fPayPaidAt
	fPayRefundedAt
	fPayCreatedAt
	fPayUser
	fPayCompany

	fMemID
	fMemStatus
	fMemCreatedAt
	fMemCanceledAt
	fMemUser
	fMemCompany

	fEvID
	fEvAction
	fEvReporter
	fEvDetails
	fEvFrom
	fEvTo
	fEvByCustomer
	fEvByMerchant
	fEvCreatedAt
	fEvPosition

	fMoneyAmount
	fMoneyCurrency
	fMoneyMinor

	fPageHasNext
	fPageHasPrev
	fPageStart
	fPageEnd

	fConnEdges
	fConnNodes
	fConnPageInfo
	fConnTotal
	fEdgeCursor
	fEdgeNode

	fSumTotal
	fSumOpen
	fSumWaiting
	fSumByStatus
	fSumByIssue
	fSumByOutcome
	fCountStatus
	fCountIssue
	fCountOutcome
	fCountCount

	fViewerRole
	fViewerScopes
	fViewerUser
	fViewerCompany
	fViewerCompanies

	fTokID
	fTokRole
	fTokScopes
	fTokLabel
	fTokUser
	fTokCompany
	fTokCreatedAt
	fTokRevokedAt
	fTokCurrent
)

// fieldSpec is what the planner knows of one field: what computes it, the type it
// returns (as the schema writes it) and its arguments.
type fieldSpec struct {
	kind fieldKind
	typ  string
	args []string
}

// readFields is the read schema as the planner knows it.
var readFields = map[string]map[string]fieldSpec{
	"Query": {
		"node":              {fQueryNode, "Node", []string{"id"}},
		"nodes":             {fQueryNodes, "[Node]!", []string{"ids"}},
		"viewer":            {fQueryViewer, "Viewer!", nil},
		"resolution":        {fQueryResolution, "Resolution", []string{"id"}},
		"resolutions":       {fQueryResolutions, "ResolutionConnection!", []string{"first", "after", "last", "before", "filter", "orderBy"}},
		"resolutionSummary": {fQuerySummary, "ResolutionSummary!", []string{"filter"}},
		"tokens":            {fQueryTokens, "ApiTokenConnection!", []string{"first", "after", "filter"}},
	},
	"Resolution": {
		"id":                      {fResID, "ID!", nil},
		"status":                  {fResStatus, "ResolutionStatus!", nil},
		"issue":                   {fResIssue, "ResolutionIssue!", nil},
		"createdAt":               {fResCreatedAt, "DateTime!", nil},
		"updatedAt":               {fResUpdatedAt, "DateTime!", nil},
		"dueDate":                 {fResDueDate, "DateTime", nil},
		"customerAppealed":        {fResCustomerAppealed, "Boolean!", nil},
		"merchantAppealed":        {fResMerchantAppealed, "Boolean!", nil},
		"customerResponseActions": {fResCustomerActions, "[CustomerAction!]!", nil},
		"merchantResponseActions": {fResMerchantActions, "[MerchantAction!]!", nil},
		"platformResponseActions": {fResPlatformActions, "[PlatformAction!]!", nil},
		"viewerActions":           {fResViewerActions, "[ResolutionAction!]!", nil},
		"outcome":                 {fResOutcome, "ResolutionOutcome", nil},
		"refund":                  {fResRefund, "ResolutionRefund", nil},
		"version":                 {fResVersion, "Int!", nil},
		"company":                 {fResCompany, "Company", nil},
		"user":                    {fResUser, "User!", nil},
		"payment":                 {fResPayment, "Payment!", nil},
		"member":                  {fResMember, "Membership", nil},
		"resolutionEvents":        {fResRecentEvents, "[ResolutionEvent!]!", nil},
		"events":                  {fResEvents, "ResolutionEventConnection!", []string{"first", "after", "last", "before", "orderBy"}},
	},
	"Company": {
		"id": {fCompanyID, "ID!", nil}, "title": {fCompanyTitle, "String!", nil}, "route": {fCompanyRoute, "String!", nil},
		"createdAt": {fCompanyCreatedAt, "DateTime!", nil},
	},
	"User": {
		"id": {fUserID, "ID!", nil}, "name": {fUserName, "String", nil}, "username": {fUserUsername, "String!", nil},
		"email": {fUserEmail, "String", nil},
	},
	"Payment": {
		"id": {fPayID, "ID!", nil}, "currency": {fPayCurrency, "String!", nil}, "total": {fPayTotal, "Money!", nil},
		"subtotal": {fPaySubtotal, "Money", nil}, "refundedAmount": {fPayRefunded, "Money!", nil},
		"status": {fPayStatus, "PaymentStatus!", nil}, "paidAt": {fPayPaidAt, "DateTime", nil},
		"refundedAt": {fPayRefundedAt, "DateTime", nil}, "createdAt": {fPayCreatedAt, "DateTime!", nil},
		"user": {fPayUser, "User!", nil}, "company": {fPayCompany, "Company!", nil},
	},
	"Membership": {
		"id": {fMemID, "ID!", nil}, "status": {fMemStatus, "MembershipStatus!", nil}, "createdAt": {fMemCreatedAt, "DateTime!", nil},
		"canceledAt": {fMemCanceledAt, "DateTime", nil}, "user": {fMemUser, "User!", nil}, "company": {fMemCompany, "Company!", nil},
	},
	"ResolutionEvent": {
		"id": {fEvID, "ID!", nil}, "action": {fEvAction, "ResolutionEventAction!", nil},
		"reporterType": {fEvReporter, "ReporterType!", nil}, "details": {fEvDetails, "String", nil},
		"fromStatus": {fEvFrom, "ResolutionStatus!", nil}, "toStatus": {fEvTo, "ResolutionStatus!", nil},
		"viewableByCustomer": {fEvByCustomer, "Boolean!", nil}, "viewableByMerchant": {fEvByMerchant, "Boolean!", nil},
		"createdAt": {fEvCreatedAt, "DateTime!", nil}, "position": {fEvPosition, "Int!", nil},
	},
	"Money": {
		"amount": {fMoneyAmount, "String!", nil}, "currency": {fMoneyCurrency, "String!", nil},
		"minorUnits": {fMoneyMinor, "Int!", nil},
	},
	"PageInfo": {
		"hasNextPage": {fPageHasNext, "Boolean!", nil}, "hasPreviousPage": {fPageHasPrev, "Boolean!", nil},
		"startCursor": {fPageStart, "String", nil}, "endCursor": {fPageEnd, "String", nil},
	},
	"ResolutionConnection": {
		"edges": {fConnEdges, "[ResolutionEdge!]!", nil}, "nodes": {fConnNodes, "[Resolution!]!", nil},
		"pageInfo": {fConnPageInfo, "PageInfo!", nil}, "totalCount": {fConnTotal, "Int!", nil},
	},
	"ResolutionEdge": {"cursor": {fEdgeCursor, "String!", nil}, "node": {fEdgeNode, "Resolution!", nil}},
	"ResolutionEventConnection": {
		"edges": {fConnEdges, "[ResolutionEventEdge!]!", nil}, "nodes": {fConnNodes, "[ResolutionEvent!]!", nil},
		"pageInfo": {fConnPageInfo, "PageInfo!", nil}, "totalCount": {fConnTotal, "Int!", nil},
	},
	"ResolutionEventEdge": {"cursor": {fEdgeCursor, "String!", nil}, "node": {fEdgeNode, "ResolutionEvent!", nil}},
	"ResolutionSummary": {
		"total": {fSumTotal, "Int!", nil}, "open": {fSumOpen, "Int!", nil}, "waitingOnMe": {fSumWaiting, "Int!", nil},
		"byStatus": {fSumByStatus, "[StatusCount!]!", nil},
		"byIssue":  {fSumByIssue, "[IssueCount!]!", nil}, "byOutcome": {fSumByOutcome, "[OutcomeCount!]!", nil},
	},
	"StatusCount":  {"status": {fCountStatus, "ResolutionStatus!", nil}, "count": {fCountCount, "Int!", nil}},
	"IssueCount":   {"issue": {fCountIssue, "ResolutionIssue!", nil}, "count": {fCountCount, "Int!", nil}},
	"OutcomeCount": {"outcome": {fCountOutcome, "ResolutionOutcome!", nil}, "count": {fCountCount, "Int!", nil}},
	"Viewer": {
		"role": {fViewerRole, "ViewerRole!", nil}, "scopes": {fViewerScopes, "[Scope!]!", nil}, "user": {fViewerUser, "User", nil},
		"company": {fViewerCompany, "Company", nil}, "companies": {fViewerCompanies, "[Company!]!", nil},
	},
	"ApiTokenConnection": {
		"edges": {fConnEdges, "[ApiTokenEdge!]!", nil}, "nodes": {fConnNodes, "[ApiToken!]!", nil},
		"pageInfo": {fConnPageInfo, "PageInfo!", nil},
	},
	"ApiTokenEdge": {"cursor": {fEdgeCursor, "String!", nil}, "node": {fEdgeNode, "ApiToken!", nil}},
	"ApiToken": {
		"id": {fTokID, "ID!", nil}, "role": {fTokRole, "ViewerRole!", nil}, "scopes": {fTokScopes, "[Scope!]!", nil},
		"label": {fTokLabel, "String", nil}, "user": {fTokUser, "User", nil}, "company": {fTokCompany, "Company", nil},
		"createdAt": {fTokCreatedAt, "DateTime!", nil}, "revokedAt": {fTokRevokedAt, "DateTime", nil},
		"current": {fTokCurrent, "Boolean!", nil},
	},
}

// argsFunc coerces a field's raw arguments with gqlgen's generated code, so both
// executors read arguments (defaults, input objects, custom scalars) identically.
type argsFunc func(ec *executionContext, ctx context.Context, raw map[string]any) (map[string]any, error)

var argsFuncs = map[fieldKind]argsFunc{
	fQueryNode:        (*executionContext).field_Query_node_args,
	fQueryNodes:       (*executionContext).field_Query_nodes_args,
	fQueryResolution:  (*executionContext).field_Query_resolution_args,
	fQueryResolutions: (*executionContext).field_Query_resolutions_args,
	fQuerySummary:     (*executionContext).field_Query_resolutionSummary_args,
	fResEvents:        (*executionContext).field_Resolution_events_args,
	fQueryTokens:      (*executionContext).field_Query_tokens_args,
}

// readSchema is readFields checked against the served schema, the implementors of each
// type (for CollectFields), and the enum encodings.
type readSchema struct {
	fields      map[string]map[string]fieldSpec
	implementor [numObjTypes][]string
	enums       map[string]map[string][]byte // enum type -> wire name -> JSON
	// The enums the writer uses, by wire name.
	status, issue, customerAction, merchantAction, platformAction, action, eventAction, reporter, outcome, refund map[string][]byte
}

// newReadSchema keeps the fields of readFields that the schema declares with the same
// type and arguments.
func newReadSchema(s *ast.Schema) *readSchema {
	rs := &readSchema{fields: map[string]map[string]fieldSpec{}, enums: map[string]map[string][]byte{}}
	for typeName, fields := range readFields {
		def := s.Types[typeName]
		if def == nil || def.Kind != ast.Object {
			continue
		}
		kept := map[string]fieldSpec{}
		for name, spec := range fields {
			fd := def.Fields.ForName(name)
			if fd == nil || fd.Type.String() != spec.typ || !sameArgs(fd.Arguments, spec.args) {
				continue
			}
			if spec.args != nil && argsFuncs[spec.kind] == nil {
				continue
			}
			kept[name] = spec
		}
		rs.fields[typeName] = kept
	}
	for t := tQuery; t < numObjTypes; t++ {
		if def := s.Types[typeNames[t]]; def != nil {
			rs.implementor[t] = append([]string{def.Name}, def.Interfaces...)
		}
	}
	for name, def := range s.Types {
		if def.Kind != ast.Enum || strings.HasPrefix(name, "__") {
			continue
		}
		m := map[string][]byte{}
		for _, v := range def.EnumValues {
			// The domain's wire names are the enum names in lower case (gqlgen.yml binds
			// each value to its dispute constant); TestEnumEncodings holds this to
			// gqlgen's generated marshallers.
			m[strings.ToLower(v.Name)] = []byte(strconv.Quote(v.Name))
		}
		rs.enums[name] = m
	}
	rs.status, rs.issue, rs.outcome, rs.refund = rs.enums["ResolutionStatus"], rs.enums["ResolutionIssue"], rs.enums["ResolutionOutcome"], rs.enums["ResolutionRefund"]
	rs.customerAction, rs.merchantAction, rs.platformAction = rs.enums["CustomerAction"], rs.enums["MerchantAction"], rs.enums["PlatformAction"]
	rs.action, rs.eventAction, rs.reporter = rs.enums["ResolutionAction"], rs.enums["ResolutionEventAction"], rs.enums["ReporterType"]
	return rs
}

func sameArgs(defs ast.ArgumentDefinitionList, want []string) bool {
	if len(defs) != len(want) {
		return false
	}
	for _, d := range defs {
		if !slices.Contains(want, d.Name) {
			return false
		}
	}
	return true
}

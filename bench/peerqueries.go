package main

import (
	"encoding/json"
	"fmt"
	"slices"
)

// The -peer mode's operations for PostGraphile v5 (amber preset) on this project's
// PostgreSQL schema, and the equivalence check that both servers return the same rows.
//
// PostGraphile names things by its inflection (checked by introspection against
// db/migrations/postgres): a text primary key `id` is `rowId` (its `id` is a global
// node ID), a foreign key `company_id` is `companyByCompanyId`, `member_id` is
// `membershipByMemberId`, the events of a case are `resolutionEventsByResolutionId`,
// the list of cases is `allResolutions(orderBy: [ResolutionOrderBy!])`, one case is
// `resolutionByRowId(rowId:)`. Only indexed columns are orderable.
//
// The selections mirror listQuery and detailQuery field for field where PostGraphile
// has a counterpart: money is one BigInt column (`total`) where this server returns
// `{ amount currency minorUnits }`; the computed fields (viewerActions and the
// *ResponseActions) have none and are left out. The rows are the same:
//   - list: the 20 newest cases (created_at DESC, id DESC, the server's order and its
//     index resolutions_created_idx) and the 10 latest events of each, newest first
//     (`events(first: 10)` runs newest first: position DESC);
//   - detail: the 50 latest events, oldest first (`last: 50` in position order).
// The platform token sees every case and event; PostGraphile has no authorization
// here, which is the same view.

const peerListQuery = `query PeerList {
  allResolutions(first: 20, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) {
    edges { cursor node { rowId status issue createdAt updatedAt dueDate customerAppealed merchantAppealed
      outcome refund version
      companyByCompanyId { rowId title route }
      userByUserId { rowId name username email }
      paymentByPaymentId { rowId status currency total refundedAmount paidAt createdAt }
      membershipByMemberId { rowId status createdAt canceledAt }
      resolutionEventsByResolutionId(first: 10, orderBy: [POSITION_DESC]) {
        edges { cursor node { rowId action reporterType details fromStatus toStatus createdAt position } }
        pageInfo { hasNextPage endCursor } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`

const peerDetailQuery = `query PeerDetail($id: String!) {
  resolutionByRowId(rowId: $id) { rowId status issue createdAt updatedAt dueDate customerAppealed merchantAppealed
    outcome refund version
    companyByCompanyId { rowId title route createdAt }
    userByUserId { rowId name username email }
    paymentByPaymentId { rowId status currency total subtotal refundedAmount paidAt refundedAt createdAt
      userByUserId { rowId username } companyByCompanyId { rowId title } }
    membershipByMemberId { rowId status createdAt canceledAt userByUserId { rowId username } companyByCompanyId { rowId title } }
    resolutionEventsByResolutionId(last: 50, orderBy: [POSITION_ASC]) {
      nodes { rowId action reporterType details fromStatus toStatus viewableByCustomer viewableByMerchant createdAt position } }
  }
}`

// caseDigest is what the equivalence check compares of one case: its ID, the IDs of
// its company, user, payment and member ("" when null), and its events' IDs in order.
type caseDigest struct {
	ID      string
	Related [4]string
	Events  []string
}

type idRef struct {
	ID    string `json:"id"`
	RowID string `json:"rowId"`
}

// id is the row's ID in either server's naming.
func (r *idRef) id() string {
	switch {
	case r == nil:
		return ""
	case r.RowID != "":
		return r.RowID
	}
	return r.ID
}

// oursCase is a case in this server's list or detail answer.
type oursCase struct {
	ID      string `json:"id"`
	Company *idRef `json:"company"`
	User    *idRef `json:"user"`
	Payment *idRef `json:"payment"`
	Member  *idRef `json:"member"`
	Events  *struct {
		Edges []struct{ Node idRef } `json:"edges"`
	} `json:"events"`
	ResolutionEvents []idRef `json:"resolutionEvents"`
}

func (c oursCase) digest() caseDigest {
	d := caseDigest{ID: c.ID, Related: [4]string{c.Company.id(), c.User.id(), c.Payment.id(), c.Member.id()}}
	if c.Events != nil {
		for _, e := range c.Events.Edges {
			d.Events = append(d.Events, e.Node.id())
		}
	}
	for _, e := range c.ResolutionEvents {
		d.Events = append(d.Events, e.id())
	}
	return d
}

// peerCase is a case in PostGraphile's answer.
type peerCase struct {
	RowID   string `json:"rowId"`
	Company *idRef `json:"companyByCompanyId"`
	User    *idRef `json:"userByUserId"`
	Payment *idRef `json:"paymentByPaymentId"`
	Member  *idRef `json:"membershipByMemberId"`
	Events  struct {
		Edges []struct{ Node idRef } `json:"edges"`
		Nodes []idRef                `json:"nodes"`
	} `json:"resolutionEventsByResolutionId"`
}

func (c peerCase) digest() caseDigest {
	d := caseDigest{ID: c.RowID, Related: [4]string{c.Company.id(), c.User.id(), c.Payment.id(), c.Member.id()}}
	for _, e := range c.Events.Edges {
		d.Events = append(d.Events, e.Node.id())
	}
	for _, e := range c.Events.Nodes {
		d.Events = append(d.Events, e.id())
	}
	return d
}

// decodeGraphQL unmarshals a response's data, or returns its errors.
func decodeGraphQL(body []byte, data any) error {
	var r gqlResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	if len(r.Errors) > 0 {
		return errorsToErr(r.Errors)
	}
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return fmt.Errorf("no data in %s", truncate(string(body), 200))
	}
	return json.Unmarshal(r.Data, data)
}

// digestList reads a list page from either server ("ours" or "peer").
func digestList(side string, body []byte) ([]caseDigest, error) {
	var out []caseDigest
	if side == "peer" {
		var data struct {
			AllResolutions struct{ Edges []struct{ Node peerCase } } `json:"allResolutions"`
		}
		if err := decodeGraphQL(body, &data); err != nil {
			return nil, err
		}
		for _, e := range data.AllResolutions.Edges {
			out = append(out, e.Node.digest())
		}
		return out, nil
	}
	var data struct {
		Resolutions struct{ Edges []struct{ Node oursCase } } `json:"resolutions"`
	}
	if err := decodeGraphQL(body, &data); err != nil {
		return nil, err
	}
	for _, e := range data.Resolutions.Edges {
		out = append(out, e.Node.digest())
	}
	return out, nil
}

// digestDetail reads one case from either server ("ours" or "peer").
func digestDetail(side string, body []byte) (caseDigest, error) {
	if side == "peer" {
		var data struct {
			Case *peerCase `json:"resolutionByRowId"`
		}
		if err := decodeGraphQL(body, &data); err != nil {
			return caseDigest{}, err
		}
		if data.Case == nil {
			return caseDigest{}, fmt.Errorf("case not found")
		}
		return data.Case.digest(), nil
	}
	var data struct {
		Case *oursCase `json:"resolution"`
	}
	if err := decodeGraphQL(body, &data); err != nil {
		return caseDigest{}, err
	}
	if data.Case == nil {
		return caseDigest{}, fmt.Errorf("case not found")
	}
	return data.Case.digest(), nil
}

// countEvents is the number of events over all cases.
func countEvents(cs []caseDigest) int {
	n := 0
	for _, c := range cs {
		n += len(c.Events)
	}
	return n
}

// compareDigests returns nil when both servers returned the same cases in the same
// order, with the same related rows and the same events in the same order, and
// otherwise describes the first difference.
func compareDigests(ours, peer []caseDigest) error {
	if len(ours) != len(peer) {
		return fmt.Errorf("%d cases here, %d from PostGraphile", len(ours), len(peer))
	}
	for i := range ours {
		o, p := ours[i], peer[i]
		switch {
		case o.ID != p.ID:
			return fmt.Errorf("case %d: %s here, %s from PostGraphile", i+1, o.ID, p.ID)
		case o.Related != p.Related:
			return fmt.Errorf("case %s: company/user/payment/member %v here, %v from PostGraphile", o.ID, o.Related, p.Related)
		case len(o.Events) != len(p.Events):
			return fmt.Errorf("case %s: %d events here, %d from PostGraphile", o.ID, len(o.Events), len(p.Events))
		case !slices.Equal(o.Events, p.Events):
			return fmt.Errorf("case %s: the same number of events (%d) but not the same events in the same order", o.ID, len(o.Events))
		}
	}
	return nil
}

package db

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// CaseView names a case and the role of the viewer on it; the role decides which
// events the viewer may see.
type CaseView struct {
	CaseID string
	Role   dispute.Actor
}

const eventColumns = "id, resolution_id, position, action, reporter_type, details, from_status, to_status, " +
	"viewable_by_customer, viewable_by_merchant, created_at"

// byRole splits the cases of views by what their viewer may see of a timeline: the
// events flagged for the customer, those flagged for the merchant, or all (the
// platform). A case viewed in no role (or as the system) sees nothing and is left out.
// This is the one statement of event visibility in SQL terms; dispute.Event.VisibleTo
// says the same of one event.
func byRole(views []CaseView) (customer, merchant, platform []string) {
	for _, v := range views {
		switch v.Role {
		case dispute.ActorCustomer:
			customer = append(customer, v.CaseID)
		case dispute.ActorMerchant:
			merchant = append(merchant, v.CaseID)
		case dispute.ActorPlatform:
			platform = append(platform, v.CaseID)
		}
	}
	return customer, merchant, platform
}

// visibility returns a condition keeping, for each case, the events its viewer may see.
func visibility(views []CaseView) (string, []any) {
	customer, merchant, platform := byRole(views)
	var parts []string
	var args []any
	if len(customer) > 0 {
		parts = append(parts, "(e.resolution_id IN (?) AND e.viewable_by_customer)")
		args = append(args, bun.List(customer))
	}
	if len(merchant) > 0 {
		parts = append(parts, "(e.resolution_id IN (?) AND e.viewable_by_merchant)")
		args = append(args, bun.List(merchant))
	}
	if len(platform) > 0 {
		parts = append(parts, "e.resolution_id IN (?)")
		args = append(args, bun.List(platform))
	}
	if len(parts) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// EventPage asks for up to Limit events per case, travelling newest first when Desc,
// strictly beyond the position Cursor (0: from the start of the travel).
type EventPage struct {
	Limit  int
	Desc   bool
	Cursor int
}

// ListEvents returns, for every case in views, up to p.Limit+1 visible events in travel
// order (the extra one tells that more follow), in one statement for all the cases.
func (d *DB) ListEvents(ctx context.Context, views []CaseView, p EventPage) (map[string][]dispute.Event, error) {
	out := make(map[string][]dispute.Event, len(views))
	if len(views) == 0 {
		return out, nil
	}
	cond, args := visibility(views)
	order := "ASC"
	if p.Desc {
		order = "DESC"
	}
	if p.Cursor > 0 {
		if p.Desc {
			cond += " AND e.position < ?"
		} else {
			cond += " AND e.position > ?"
		}
		args = append(args, p.Cursor)
	}
	args = append(args, p.Limit+1)
	query := "SELECT " + eventColumns + " FROM (SELECT e.*, row_number() OVER (PARTITION BY e.resolution_id ORDER BY e.position " +
		order + ") AS rn FROM resolution_events AS e WHERE " + cond + ") AS t WHERE t.rn <= ? ORDER BY t.resolution_id, t.rn"
	var rows []eventRow
	if err := d.bun.NewRaw(query, args...).Scan(ctx, &rows); err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[r.ResolutionID] = append(out[r.ResolutionID], toDomainEvent(r))
	}
	return out, nil
}

// RecentEvents returns, for every case in views, its n most recent visible events,
// oldest first, in one statement.
func (d *DB) RecentEvents(ctx context.Context, views []CaseView, n int) (map[string][]dispute.Event, error) {
	m, err := d.ListEvents(ctx, views, EventPage{Limit: n - 1, Desc: true})
	if err != nil {
		return nil, err
	}
	for id, evs := range m {
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
		}
		m[id] = evs
	}
	return m, nil
}

// EventsByID returns the events with the given IDs, keyed by ID, without visibility
// checks: the caller checks the event's case and flags.
func (d *DB) EventsByID(ctx context.Context, ids []string) (map[string]dispute.Event, error) {
	out := make(map[string]dispute.Event, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []eventRow
	if err := d.bun.NewSelect().Model(&rows).Where("id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[r.ID] = toDomainEvent(r)
	}
	return out, nil
}

// maxCasesPerRead bounds the OR-list of one EventsAfter statement.
const maxCasesPerRead = 200

// EventsAfter returns, per case, the events after the given positions, in order.
func (d *DB) EventsAfter(ctx context.Context, after map[string]int) (map[string][]dispute.Event, error) {
	out := make(map[string][]dispute.Event, len(after))
	ids := make([]string, 0, len(after))
	for id := range after {
		ids = append(ids, id)
	}
	for start := 0; start < len(ids); start += maxCasesPerRead {
		chunk := ids[start:min(start+maxCasesPerRead, len(ids))]
		var rows []eventRow
		q := d.bun.NewSelect().Model(&rows).WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			for _, id := range chunk {
				q = q.WhereOr("(e.resolution_id = ? AND e.position > ?)", id, after[id])
			}
			return q
		}).Order("e.resolution_id", "e.position")
		if err := q.Scan(ctx); err != nil {
			return nil, mapErr(err)
		}
		for _, r := range rows {
			out[r.ResolutionID] = append(out[r.ResolutionID], toDomainEvent(r))
		}
	}
	return out, nil
}

// CountEvents counts, for every case in views, the events of its timeline its viewer
// may see, in one statement (through the (resolution_id, position) index: a timeline
// is short).
func (d *DB) CountEvents(ctx context.Context, views []CaseView) (map[string]int, error) {
	out := make(map[string]int, len(views))
	if len(views) == 0 {
		return out, nil
	}
	cond, args := visibility(views)
	var rows []struct {
		ResolutionID string `bun:"resolution_id"`
		N            int    `bun:"n"`
	}
	query := "SELECT e.resolution_id, count(*) AS n FROM resolution_events AS e WHERE " + cond + " GROUP BY e.resolution_id"
	if err := d.bun.NewRaw(query, args...).Scan(ctx, &rows); err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[r.ResolutionID] = r.N
	}
	return out, nil
}

package db

import (
	"context"
	"strconv"
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

// maxReadsPerStatement bounds the reads of one EventsAfter statement (a compound
// SELECT: SQLite allows 500 terms).
const maxReadsPerStatement = 200

// EventsAfter answers each read with its case's next events after its position that
// one of its viewers may see, in position order, at most its limit; the answers come
// in the order of reads. Each read is an index range scan of its case's timeline
// (resolution_id, position) that stops at the limit; the viewers' visibility applies
// in the scan, before the limit, so a read returns as many visible events as exist up
// to it. The reads go together, a UNION ALL of one subquery each, in one statement per
// maxReadsPerStatement.
func (d *DB) EventsAfter(ctx context.Context, reads []dispute.TimelineRead) ([][]dispute.Event, error) {
	out := make([][]dispute.Event, len(reads))
	for start := 0; start < len(reads); start += maxReadsPerStatement {
		var parts []string
		var args []any
		for i := start; i < min(start+maxReadsPerStatement, len(reads)); i++ {
			r := reads[i]
			views := make([]CaseView, len(r.Viewers))
			for j, v := range r.Viewers {
				views[j] = CaseView{CaseID: r.CaseID, Role: v}
			}
			cond, condArgs := visibility(views)
			if len(condArgs) == 0 || r.Limit <= 0 {
				continue // a viewer that sees nothing
			}
			parts = append(parts, "SELECT * FROM (SELECT ? AS rd, "+eventColumns+" FROM resolution_events AS e"+
				" WHERE e.resolution_id = ? AND e.position > ? AND "+cond+" ORDER BY e.position LIMIT ?) AS r"+strconv.Itoa(i))
			args = append(append(append(args, i, r.CaseID, r.After), condArgs...), r.Limit)
		}
		if len(parts) == 0 {
			continue
		}
		var rows []struct {
			Read int `bun:"rd"`
			eventRow
		}
		query := strings.Join(parts, " UNION ALL ") + " ORDER BY rd, position"
		if err := d.bun.NewRaw(query, args...).Scan(ctx, &rows); err != nil {
			return nil, mapErr(err)
		}
		for _, r := range rows {
			out[r.Read] = append(out[r.Read], toDomainEvent(r.eventRow))
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

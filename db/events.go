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

// visibility returns a condition keeping, for each case, the events its viewer may see.
func visibility(views []CaseView) (string, []any) {
	var customer, merchant, platform []string
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
func ListEvents(ctx context.Context, idb bun.IDB, views []CaseView, p EventPage) (map[string][]dispute.Event, error) {
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
	if err := idb.NewRaw(query, args...).Scan(ctx, &rows); err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[r.ResolutionID] = append(out[r.ResolutionID], toDomainEvent(r))
	}
	return out, nil
}

// RecentEvents returns, for every case in views, its n most recent visible events,
// oldest first, in one statement.
func RecentEvents(ctx context.Context, idb bun.IDB, views []CaseView, n int) (map[string][]dispute.Event, error) {
	m, err := ListEvents(ctx, idb, views, EventPage{Limit: n - 1, Desc: true})
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

// GetEvents returns the events with the given IDs, keyed by ID, without visibility
// checks: the caller checks the event's case and flags.
func GetEvents(ctx context.Context, idb bun.IDB, ids []string) (map[string]dispute.Event, error) {
	out := make(map[string]dispute.Event, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []eventRow
	if err := idb.NewSelect().Model(&rows).Where("id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[r.ID] = toDomainEvent(r)
	}
	return out, nil
}

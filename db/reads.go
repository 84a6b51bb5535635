package db

import (
	"context"

	"resolutioncenter/dispute"
)

// Reads names the rows one level of a planned query needs: the related rows of every
// object of the level above, each kind in one statement for all its keys. On
// PostgreSQL the statements are prepared and sent in one round trip (pgread.go); on
// SQLite they run one after the other through the same queries as the loaders.
type Reads struct {
	Companies   []string
	Users       []string
	Payments    []string
	Memberships []string
	// DisputantUsers asks which of these users have a case with one of
	// DisputantCompanies (see Disputants).
	DisputantUsers     []string
	DisputantCompanies []string
	// Recent asks for the RecentN most recent visible events of each case, oldest
	// first (see RecentEvents).
	Recent  []CaseView
	RecentN int
	// Pages asks for pages of events (see ListEvents), one statement per shape.
	Pages []PageRead
	// EventCounts asks how many events of each case's timeline its viewer may see
	// (see CountEvents).
	EventCounts []CaseView
	// Counts asks how many cases of a scope match a filter (see CountCases and
	// SummarizeCases), one statement each.
	Counts []CountRead
}

// CountRead asks for the number of cases of Scope matching Filter (CountCases), or,
// with Summary, for their summary (SummarizeCases).
type CountRead struct {
	Scope   Scope
	Filter  Filter
	Summary bool
}

// PageRead asks for one page shape of the timelines of several cases.
type PageRead struct {
	Views []CaseView
	Page  EventPage
}

// Statements returns how many statements Read runs for r.
func (r *Reads) Statements() int {
	n := len(r.Pages) + len(r.Counts)
	for _, k := range [][]string{r.Companies, r.Users, r.Payments, r.Memberships} {
		if len(k) > 0 {
			n++
		}
	}
	if len(r.DisputantUsers) > 0 && len(r.DisputantCompanies) > 0 {
		n++
	}
	if len(r.Recent) > 0 {
		n++
	}
	if len(r.EventCounts) > 0 {
		n++
	}
	return n
}

// ReadSet receives what Read found, added to what it holds (its maps are made on first
// use). An ID asked for and not found is simply absent.
type ReadSet struct {
	Companies   map[string]Company
	Users       map[string]User
	Payments    map[string]Payment
	Memberships map[string]Membership
	// Disputants holds true for each user asked about who has a case with one of the
	// companies, false for the others.
	Disputants map[string]bool
	// Recent holds each asked case's events, oldest first (absent: none visible).
	Recent map[string][]dispute.Event
	// Pages holds, for Reads.Pages[i], each case's events in travel order.
	Pages []map[string][]dispute.Event
	// EventCounts holds each asked case's number of visible events (zero included).
	EventCounts map[string]int
	// Counts holds, for Reads.Counts[i], the summary: only its Total unless Summary
	// was asked for.
	Counts []Summary
}

// Read fetches r into into: every kind asked for, in one statement each.
func (d *DB) Read(ctx context.Context, r *Reads, into *ReadSet) error {
	if r.Statements() == 0 {
		return nil
	}
	prepare(into, r)
	if d.pool != nil {
		return d.pgRead(ctx, r, into)
	}
	return d.bunRead(ctx, r, into)
}

// prepare makes the maps into needs for r.
func prepare(into *ReadSet, r *Reads) {
	if into.Companies == nil {
		into.Companies = make(map[string]Company, len(r.Companies))
	}
	if into.Users == nil {
		into.Users = make(map[string]User, len(r.Users))
	}
	if into.Payments == nil {
		into.Payments = make(map[string]Payment, len(r.Payments))
	}
	if into.Memberships == nil {
		into.Memberships = make(map[string]Membership, len(r.Memberships))
	}
	if into.Disputants == nil {
		into.Disputants = make(map[string]bool, len(r.DisputantUsers))
	}
	if into.Recent == nil {
		into.Recent = make(map[string][]dispute.Event, len(r.Recent))
	}
	if into.EventCounts == nil {
		into.EventCounts = make(map[string]int, len(r.EventCounts))
	}
	into.Pages = into.Pages[:0]
	for range r.Pages {
		into.Pages = append(into.Pages, map[string][]dispute.Event{})
	}
	into.Counts = append(into.Counts[:0], make([]Summary, len(r.Counts))...)
	for _, id := range r.DisputantUsers {
		into.Disputants[id] = false
	}
	for _, v := range r.EventCounts {
		into.EventCounts[v.CaseID] = 0
	}
}

// bunRead runs r's statements one after the other with the loaders' queries.
func (d *DB) bunRead(ctx context.Context, r *Reads, into *ReadSet) error {
	if err := readInto(ctx, r.Companies, d.CompaniesByID, into.Companies); err != nil {
		return err
	}
	if err := readInto(ctx, r.Users, d.UsersByID, into.Users); err != nil {
		return err
	}
	if err := readInto(ctx, r.Payments, d.PaymentsByID, into.Payments); err != nil {
		return err
	}
	if err := readInto(ctx, r.Memberships, d.MembershipsByID, into.Memberships); err != nil {
		return err
	}
	if len(r.DisputantUsers) > 0 && len(r.DisputantCompanies) > 0 {
		found, err := d.Disputants(ctx, r.DisputantUsers, r.DisputantCompanies)
		if err != nil {
			return err
		}
		for id := range found {
			into.Disputants[id] = true
		}
	}
	if len(r.Recent) > 0 {
		m, err := d.RecentEvents(ctx, r.Recent, r.RecentN)
		if err != nil {
			return err
		}
		for id, evs := range m {
			into.Recent[id] = evs
		}
	}
	for i, pr := range r.Pages {
		m, err := d.ListEvents(ctx, pr.Views, pr.Page)
		if err != nil {
			return err
		}
		into.Pages[i] = m
	}
	if len(r.EventCounts) > 0 {
		m, err := d.CountEvents(ctx, r.EventCounts)
		if err != nil {
			return err
		}
		for id, n := range m {
			into.EventCounts[id] = n
		}
	}
	for i, c := range r.Counts {
		sum, err := d.summarize(ctx, c)
		if err != nil {
			return err
		}
		into.Counts[i] = sum
	}
	return nil
}

func readInto[T any](ctx context.Context, ids []string, read func(context.Context, []string) (map[string]T, error), into map[string]T) error {
	if len(ids) == 0 {
		return nil
	}
	m, err := read(ctx, ids)
	if err != nil {
		return err
	}
	for id, v := range m {
		into[id] = v
	}
	return nil
}

// Package seed fills a database with demo data for newcomers and with large,
// deterministic data sets for benchmarks.
//
// Both build every case the way the server would: dispute.Policy.Open, then one
// Apply, Expire or Record per event, so every stored case is a state the lifecycle
// can reach, its events are its exact history, and refunds and membership
// cancellations are the effects the policy reported, at the time it reported them.
// IDs carry their row's creation time (the ULID time part is created_at), so ordering
// by ID agrees with ordering by creation time.
package seed

import (
	"context"
	"io"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
)

// DemoTokens are the clear-text tokens printed once after seeding the demo data.
type DemoTokens struct {
	Customer, Merchant, Platform string
	// CaseID is a case the three tokens can all see.
	CaseID string
}

// Options sizes a bulk data set. Zero values mean the defaults given per field.
type Options struct {
	// Cases is the number of cases to generate.
	Cases int
	// Seed makes the data reproducible: the same Seed, Now and sizes on an empty
	// database give the same rows, apart from the random part of the IDs.
	Seed int64
	// Companies is the number of merchants; default Cases/2000, between 5 and 2000.
	Companies int
	// Users is the number of customers; default Cases/3, at least 20. Each company
	// also gets one to three team members of its own.
	Users int
	// Now ends the generated history (cases span the two years before it);
	// default time.Now().
	Now time.Time
	// Policy is the lifecycle the cases are played through; the zero Policy is
	// dispute.DefaultPolicy().
	Policy dispute.Policy
	// BatchSize is the number of cases written per transaction; default 10000.
	BatchSize int
}

// Stats counts the rows Bulk wrote.
type Stats struct {
	Companies, Users, TeamMembers, Memberships, Payments, Cases, Events int64
	Elapsed                                                             time.Duration
}

// Rows is the total number of rows written.
func (s Stats) Rows() int64 {
	return s.Companies + s.Users + s.TeamMembers + s.Memberships + s.Payments + s.Cases + s.Events
}

// Bulk generates a large deterministic data set and appends it to whatever the
// database holds. It reports progress (rows per second) to progress, which may be nil.
func Bulk(ctx context.Context, d *db.DB, o Options, progress io.Writer) error {
	_, err := BulkWithStats(ctx, d, o, progress)
	return err
}

// Package seed fills a database with demo data for newcomers (Demo) and with large,
// deterministic data sets for benchmarks (Bulk).
//
// Both build every case the way the server would: dispute.Policy.Open, then one
// Apply, Expire or Record per event, so every stored case is a state the lifecycle
// can reach, its events are its exact history (positions 1..n, version and
// event_count equal to n), and refunds and membership cancellations are the effects
// the policy reported, at the time it reported them. Deadlines fire the way the
// sweeper fires them, shortly after the due date. IDs carry their row's creation
// time (the ULID time part is created_at), so ordering by ID agrees with ordering by
// creation time. Times are UTC, whole milliseconds.
//
// Open cases are placed so that their deadline is still ahead of the seeding time
// (or they are under platform review, which has no deadline): a freshly seeded
// database gives the deadline sweeper nothing to do.
//
// # Demo
//
// Four companies (a coffee subscription, a gym, an audio shop paid in EUR and USD, a
// stationery shop paid in JPY), nine customers and three team members, eight
// memberships with their monthly charges, about forty payments, and twenty-one cases
// in all eight statuses over the last six weeks: hidden platform requests to either
// side, appeals by either side (one ending with refund=platform), escalations and a
// customer-side deadline loss, withdrawals, chargebacks, an accept that cancels a
// membership. The customer token is Maya Chen's (five cases, four with Lumen
// Audio), the merchant token is Lumen Audio's API key.
//
// # Bulk
//
// Each case draws a final status (about 18% open), an issue and a length of 5 to 20
// events, then walks the policy towards that status in exactly that many events,
// choosing among the moves that keep the target reachable (see walk.go) with
// weights that favour the party whose turn it is. Closed cases are spread over the
// two years before Options.Now, denser recently; open ones are recent. Every case has
// its own payment (refunded when the case refunded it), subscriptions have a
// membership and earlier monthly charges, and some customers have other purchases.
// Each case draws from a generator seeded by (Seed, case number), so the data does
// not depend on scheduling; the IDs' random part comes from a seeded ChaCha8 stream
// per batch. A second run appends: names, routes and IDs are kept apart by the number
// of rows already there.
//
// On PostgreSQL rows go in with binary COPY, two transactions of Options.BatchSize
// cases at a time, with synchronous_commit off and, when the role is a superuser,
// session_replication_role = replica, which disables the foreign-key triggers for the
// load as pg_restore --disable-triggers does: the generator writes referenced rows
// first, and the tests check every reference. Indexes and unique constraints stay.
// Statistics are refreshed (ANALYZE) at the end. On SQLite rows go in through bun as
// multi-row INSERTs, one transaction per batch.
//
// seed imports db, dispute and ids.
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

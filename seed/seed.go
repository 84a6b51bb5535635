// Package seed fills a database with demo data for newcomers and with large,
// deterministic data sets for benchmarks.
package seed

import (
	"context"
	"errors"
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

// Demo seeds the demo data set into an empty database.
func Demo(ctx context.Context, d *db.DB, p dispute.Policy, now time.Time) (DemoTokens, error) {
	return DemoTokens{}, errors.New("not implemented")
}

// Options sizes a bulk data set.
type Options struct {
	Cases int
	Seed  int64
}

// Bulk generates a large deterministic data set.
func Bulk(ctx context.Context, d *db.DB, o Options, progress io.Writer) error {
	return errors.New("not implemented")
}

package db

import (
	"context"
)

// Raw runs one SQL statement outside the store's rules: no domain checks, no version
// guard, no change notice. It exists for tests that need a state the API cannot reach
// (a deadline in the past, a corrupted row) and for an operator's one-off repair;
// application code reads and writes through the other methods. Placeholders are ?.
// With dest nil the statement is executed (on SQLite behind the single-writer gate)
// and the number of affected rows returned; otherwise its rows are scanned into dest
// (a pointer to a value or a slice) and the count is 0.
func (d *DB) Raw(ctx context.Context, dest any, query string, args ...any) (int64, error) {
	if dest != nil {
		return 0, mapErr(d.bun.NewRaw(query, args...).Scan(ctx, dest))
	}
	release, err := d.gate(ctx)
	if err != nil {
		return 0, err
	}
	defer release()
	res, err := d.bun.NewRaw(query, args...).Exec(ctx)
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}

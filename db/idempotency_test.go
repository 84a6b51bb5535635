package db_test

import (
	"context"
	"reflect"
	"testing"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// TestIdempotencyPrincipalMigration: records stored before idempotency keys were bound
// to the principal (keyed by token ID, or "platform-env") are rewritten to their
// token's principal; where two tokens of one principal used the same key, the oldest
// record survives; records already keyed by principal are left alone.
func TestIdempotencyPrincipalMigration(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		biz, u := dbtest.MustCompany(t, d), dbtest.MustUser(t, d)
		tok := func(kind db.TokenKind, id string) string {
			tk, _, err := d.CreateToken(ctx, db.Token{Kind: kind, UserID: map[bool]string{true: id}[kind == db.TokenUser],
				CompanyID: map[bool]string{true: id}[kind == db.TokenCompany], Scopes: []string{"read", "manage"}}, dbtest.Now())
			if err != nil {
				t.Fatal(err)
			}
			return tk.ID
		}
		phone, laptop, key, staff := tok(db.TokenUser, u.ID), tok(db.TokenUser, u.ID), tok(db.TokenCompany, biz.ID), tok(db.TokenPlatform, "")
		t0 := dbtest.Now()
		for _, r := range []struct{ principal, key, resp string }{
			{laptop, "k-1", "laptop second"}, // made later than the phone's: dropped
			{phone, "k-1", "phone first"},
			{laptop, "k-2", "laptop only"},
			{key, "k-1", "company"},
			{staff, "k-9", "staff token"},
			{"platform-env", "k-9", "operator"}, // later than the staff token's: dropped
			{"platform-env", "k-8", "operator only"},
			{"user:" + u.ID, "k-3", "already new"},
		} {
			at := t0
			if r.resp == "laptop second" || r.resp == "operator" {
				at = t0.Add(1e9)
			}
			if err := db.InsertIdempotencyRecord(ctx, d, r.principal, r.key, r.resp, at); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.RunMigrationFile(ctx, d, "20261207000010_idempotency_principal.tx.up.sql"); err != nil {
			t.Fatalf("migration: %v", err)
		}
		got, err := db.IdempotencyRecords(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]map[string]string{
			"user:" + u.ID:      {"k-1": "phone first", "k-2": "laptop only", "k-3": "already new"},
			"company:" + biz.ID: {"k-1": "company"},
			"platform":          {"k-9": "staff token", "k-8": "operator only"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("records after the migration:\n got %v\nwant %v", got, want)
		}
	})
}

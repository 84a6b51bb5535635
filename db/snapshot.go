package db

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// Snapshot is the whole content of a database as records, for consistency checks of
// generated data and tests on small databases (it reads every row).
type Snapshot struct {
	Companies   []Company
	Users       []User
	Team        []TeamMember
	Memberships []Membership
	Payments    []Payment
	Cases       []dispute.Case
	Events      []dispute.Event // by case, in position order
}

// Snapshot reads every company, user, team membership, membership, payment, case and
// event, each table ordered by its key.
func (d *DB) Snapshot(ctx context.Context) (*Snapshot, error) {
	s := &Snapshot{}
	var err error
	if s.Companies, err = readAll(ctx, d, "id", toCompany); err != nil {
		return nil, err
	}
	if s.Users, err = readAll(ctx, d, "id", toUser); err != nil {
		return nil, err
	}
	if s.Team, err = readAll(ctx, d, "user_id, company_id", toTeamMember); err != nil {
		return nil, err
	}
	if s.Memberships, err = readAll(ctx, d, "id", toMembership); err != nil {
		return nil, err
	}
	if s.Payments, err = readAll(ctx, d, "id", toPayment); err != nil {
		return nil, err
	}
	if s.Cases, err = readAll(ctx, d, "id", toDomainCase); err != nil {
		return nil, err
	}
	if s.Events, err = readAll(ctx, d, "resolution_id, position", toDomainEvent); err != nil {
		return nil, err
	}
	return s, nil
}

func readAll[R, T any](ctx context.Context, d *DB, order string, conv func(R) T) ([]T, error) {
	var rows []R
	if err := d.bun.NewSelect().Model(&rows).OrderExpr(order).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = conv(r)
	}
	return out, nil
}

// Import writes a whole data set into a database that holds no companies or users
// yet (ALREADY_EXISTS otherwise), with its case counts, and creates tokens for it, all
// in one transaction. It returns the tokens' clear texts, in order.
func (d *DB) Import(ctx context.Context, s *Snapshot, tokens []Token, now time.Time) ([]string, error) {
	clear := make([]string, len(tokens))
	err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		c, err := tx.NewSelect().Model((*companyRow)(nil)).Exists(ctx)
		if err != nil {
			return err
		}
		u, err := tx.NewSelect().Model((*userRow)(nil)).Exists(ctx)
		if err != nil {
			return err
		}
		if c || u {
			return dispute.AlreadyExists("the database already holds companies or users; an import needs an empty database")
		}
		for _, ins := range []func() error{
			func() error { return insertRows(ctx, tx, s.Companies, fromCompany) },
			func() error { return insertRows(ctx, tx, s.Users, fromUser) },
			func() error { return insertRows(ctx, tx, s.Team, fromTeamMember) },
			func() error { return insertRows(ctx, tx, s.Memberships, fromMembership) },
			func() error { return insertRows(ctx, tx, s.Payments, fromPayment) },
			func() error { return insertRows(ctx, tx, s.Cases, fromDomainCase) },
			func() error { return insertRows(ctx, tx, s.Events, fromDomainEvent) },
			func() error { return addCounts(ctx, tx, (&BulkBatch{Cases: s.Cases}).counts()) },
		} {
			if err := ins(); err != nil {
				return err
			}
		}
		for i, t := range tokens {
			row, secret := newTokenRow(t, now)
			if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
				return err
			}
			clear[i] = secret
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return clear, nil
}

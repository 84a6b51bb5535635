package db

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// byID loads the rows of a table whose id is in list and converts them, keyed by ID.
func byID[R any, T any](ctx context.Context, idb bun.IDB, list []string, id func(R) string, conv func(R) T) (map[string]T, error) {
	out := make(map[string]T, len(list))
	if len(list) == 0 {
		return out, nil
	}
	var rows []R
	if err := idb.NewSelect().Model(&rows).Where("id IN (?)", bun.List(list)).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	for _, r := range rows {
		out[id(r)] = conv(r)
	}
	return out, nil
}

// CompaniesByID returns the companies with the given IDs, keyed by ID.
func (d *DB) CompaniesByID(ctx context.Context, list []string) (map[string]Company, error) {
	return byID(ctx, d.bun, list, func(r companyRow) string { return r.ID }, toCompany)
}

// UsersByID returns the users with the given IDs, keyed by ID.
func (d *DB) UsersByID(ctx context.Context, list []string) (map[string]User, error) {
	return byID(ctx, d.bun, list, func(r userRow) string { return r.ID }, toUser)
}

// PaymentsByID returns the payments with the given IDs, keyed by ID.
func (d *DB) PaymentsByID(ctx context.Context, list []string) (map[string]Payment, error) {
	return byID(ctx, d.bun, list, func(r paymentRow) string { return r.ID }, toPayment)
}

// MembershipsByID returns the memberships with the given IDs, keyed by ID.
func (d *DB) MembershipsByID(ctx context.Context, list []string) (map[string]Membership, error) {
	return byID(ctx, d.bun, list, func(r membershipRow) string { return r.ID }, toMembership)
}

// TeamCompanies returns the IDs of the companies the user is a team member of.
func (d *DB) TeamCompanies(ctx context.Context, userID string) ([]string, error) {
	var list []string
	if d.Engine == Postgres {
		err := d.pgStatement(ctx, pgTeamCompanies, []any{userID}, func(r pgx.Rows) (err error) {
			list, err = pgx.CollectRows(r, pgx.RowTo[string])
			return err
		})
		return list, err
	}
	err := d.bun.NewSelect().Model((*teamMemberRow)(nil)).Column("company_id").Where("user_id = ?", userID).
		Order("company_id").Scan(ctx, &list)
	return list, mapErr(err)
}

// insert writes one row in its own transaction; a unique violation is ALREADY_EXISTS
// on field (when given).
func insert[R any](ctx context.Context, d *DB, row *R, field string) error {
	return d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(row).Exec(ctx)
		return mapErrField(err, field)
	})
}

// CreateCompany inserts a company. A taken route is ALREADY_EXISTS on field "route".
func (d *DB) CreateCompany(ctx context.Context, title, route string, now time.Time) (Company, error) {
	r := companyRow{ID: ids.New(ids.Company), Title: title, Route: route, CreatedAt: now}
	if err := insert(ctx, d, &r, "route"); err != nil {
		return Company{}, err
	}
	return toCompany(r), nil
}

// CreateUser inserts a user. A taken username is ALREADY_EXISTS on field "username".
func (d *DB) CreateUser(ctx context.Context, name, username, email string, now time.Time) (User, error) {
	return d.CreateUserRecord(ctx, User{Name: name, Username: username, Email: email}, now)
}

// CreateUserRecord inserts a user with the fields of u (ID and CreatedAt are set). A
// taken username is ALREADY_EXISTS on field "username", a taken external ID (the
// identity provider's subject) on "externalId".
func (d *DB) CreateUserRecord(ctx context.Context, u User, now time.Time) (User, error) {
	u.ID, u.CreatedAt = ids.New(ids.User), now
	r := fromUser(u)
	err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if r.ExternalID != "" {
			taken, err := tx.NewSelect().Model((*userRow)(nil)).Where("external_id = ?", r.ExternalID).Exists(ctx)
			if err != nil {
				return mapErr(err)
			}
			if taken {
				return &dispute.Error{Code: dispute.CodeAlreadyExists, Field: "externalId", Message: "already exists"}
			}
		}
		_, err := tx.NewInsert().Model(&r).Exec(ctx)
		return mapErrField(err, "username")
	})
	if err != nil {
		return User{}, err
	}
	return toUser(r), nil
}

// UserByExternalID returns the user with this identity-provider subject; NOT_FOUND
// otherwise.
func (d *DB) UserByExternalID(ctx context.Context, externalID string) (User, error) {
	var r userRow
	if err := d.bun.NewSelect().Model(&r).Where("external_id = ?", externalID).Limit(1).Scan(ctx); err != nil {
		return User{}, mapErr(err)
	}
	return toUser(r), nil
}

// AddTeamMember makes the user a team member of the company; adding twice is a no-op.
func (d *DB) AddTeamMember(ctx context.Context, companyID, userID string, now time.Time) error {
	r := teamMemberRow{CompanyID: companyID, UserID: userID, CreatedAt: now}
	return d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(&r).On("CONFLICT DO NOTHING").Exec(ctx)
		return mapErr(err)
	})
}

// CreateMembership inserts an active membership.
func (d *DB) CreateMembership(ctx context.Context, userID, companyID string, now time.Time) (Membership, error) {
	r := membershipRow{ID: ids.New(ids.Membership), UserID: userID, CompanyID: companyID, Status: membershipActive, CreatedAt: now}
	if err := insert(ctx, d, &r, ""); err != nil {
		return Membership{}, err
	}
	return toMembership(r), nil
}

// NewPayment describes a paid payment to record.
type NewPayment struct {
	UserID       string
	CompanyID    string
	MembershipID string
	Currency     string
	Total        int64
	Subtotal     *int64
	PaidAt       time.Time
}

// CreatePayment inserts a paid payment.
func (d *DB) CreatePayment(ctx context.Context, p NewPayment, now time.Time) (Payment, error) {
	r := paymentRow{ID: ids.New(ids.Payment), UserID: p.UserID, CompanyID: p.CompanyID, MembershipID: p.MembershipID,
		Currency: p.Currency, Total: p.Total, Subtotal: p.Subtotal, Status: paymentPaid, PaidAt: p.PaidAt, CreatedAt: now}
	if err := insert(ctx, d, &r, ""); err != nil {
		return Payment{}, err
	}
	return toPayment(r), nil
}

// Disputants returns which of the users have a case with one of the companies.
func (d *DB) Disputants(ctx context.Context, userIDs, companyIDs []string) (map[string]bool, error) {
	out := make(map[string]bool, len(userIDs))
	if len(userIDs) == 0 || len(companyIDs) == 0 {
		return out, nil
	}
	var found []string
	err := d.bun.NewSelect().Model((*resolutionRow)(nil)).Distinct().Column("user_id").
		Where("user_id IN (?)", bun.List(userIDs)).Where("company_id IN (?)", bun.List(companyIDs)).Scan(ctx, &found)
	for _, id := range found {
		out[id] = true
	}
	return out, mapErr(err)
}

// PaysTo reports whether the user has a payment to one of the companies.
func (d *DB) PaysTo(ctx context.Context, userID string, companyIDs []string) (bool, error) {
	if len(companyIDs) == 0 {
		return false, nil
	}
	ok, err := d.bun.NewSelect().Model((*paymentRow)(nil)).
		Where("user_id = ?", userID).Where("company_id IN (?)", bun.List(companyIDs)).Exists(ctx)
	return ok, mapErr(err)
}

// IsEmpty reports whether the database holds no companies and no users yet.
func (d *DB) IsEmpty(ctx context.Context) (bool, error) {
	c, err := d.bun.NewSelect().Model((*companyRow)(nil)).Exists(ctx)
	if err != nil {
		return false, mapErr(err)
	}
	u, err := d.bun.NewSelect().Model((*userRow)(nil)).Exists(ctx)
	return !c && !u, mapErr(err)
}

// UserByUsername returns the user with this username; NOT_FOUND otherwise.
func (d *DB) UserByUsername(ctx context.Context, username string) (User, error) {
	var r userRow
	if err := d.bun.NewSelect().Model(&r).Where("username = ?", username).Limit(1).Scan(ctx); err != nil {
		return User{}, mapErr(err)
	}
	return toUser(r), nil
}

// CompanyByRoute returns the company with this route; NOT_FOUND otherwise.
func (d *DB) CompanyByRoute(ctx context.Context, route string) (Company, error) {
	var r companyRow
	if err := d.bun.NewSelect().Model(&r).Where("route = ?", route).Limit(1).Scan(ctx); err != nil {
		return Company{}, mapErr(err)
	}
	return toCompany(r), nil
}

package db

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/ids"
)

// getByIDs loads the rows of a table whose id is in list and converts them, keyed by ID.
func getByIDs[R any, T any](ctx context.Context, idb bun.IDB, list []string, id func(R) string, conv func(R) T) (map[string]T, error) {
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

// GetCompanies returns the companies with the given IDs, keyed by ID.
func GetCompanies(ctx context.Context, idb bun.IDB, list []string) (map[string]Company, error) {
	return getByIDs(ctx, idb, list, func(r companyRow) string { return r.ID }, toCompany)
}

// GetUsers returns the users with the given IDs, keyed by ID.
func GetUsers(ctx context.Context, idb bun.IDB, list []string) (map[string]User, error) {
	return getByIDs(ctx, idb, list, func(r userRow) string { return r.ID }, toUser)
}

// GetPayments returns the payments with the given IDs, keyed by ID.
func GetPayments(ctx context.Context, idb bun.IDB, list []string) (map[string]Payment, error) {
	return getByIDs(ctx, idb, list, func(r paymentRow) string { return r.ID }, toPayment)
}

// GetMemberships returns the memberships with the given IDs, keyed by ID.
func GetMemberships(ctx context.Context, idb bun.IDB, list []string) (map[string]Membership, error) {
	return getByIDs(ctx, idb, list, func(r membershipRow) string { return r.ID }, toMembership)
}

// TeamCompanies returns the IDs of the companies the user is a team member of.
func TeamCompanies(ctx context.Context, idb bun.IDB, userID string) ([]string, error) {
	var list []string
	err := idb.NewSelect().Model((*teamMemberRow)(nil)).Column("company_id").Where("user_id = ?", userID).
		Order("company_id").Scan(ctx, &list)
	return list, mapErr(err)
}

// CreateCompany inserts a company. A taken route is ALREADY_EXISTS on field "route".
func CreateCompany(ctx context.Context, idb bun.IDB, title, route string, now time.Time) (Company, error) {
	r := companyRow{ID: ids.New(ids.Company), Title: title, Route: route, CreatedAt: now}
	if _, err := idb.NewInsert().Model(&r).Exec(ctx); err != nil {
		return Company{}, mapErrField(err, "route")
	}
	return toCompany(r), nil
}

// CreateUser inserts a user. A taken username is ALREADY_EXISTS on field "username".
func CreateUser(ctx context.Context, idb bun.IDB, name, username, email string, now time.Time) (User, error) {
	r := userRow{ID: ids.New(ids.User), Name: ptr(name), Username: username, Email: email, CreatedAt: now}
	if _, err := idb.NewInsert().Model(&r).Exec(ctx); err != nil {
		return User{}, mapErrField(err, "username")
	}
	return toUser(r), nil
}

// AddTeamMember makes the user a team member of the company; adding twice is a no-op.
func AddTeamMember(ctx context.Context, idb bun.IDB, companyID, userID string, now time.Time) error {
	r := teamMemberRow{CompanyID: companyID, UserID: userID, CreatedAt: now}
	_, err := idb.NewInsert().Model(&r).On("CONFLICT DO NOTHING").Exec(ctx)
	return mapErr(err)
}

// CreateMembership inserts an active membership.
func CreateMembership(ctx context.Context, idb bun.IDB, userID, companyID string, now time.Time) (Membership, error) {
	r := membershipRow{ID: ids.New(ids.Membership), UserID: userID, CompanyID: companyID, Status: "active", CreatedAt: now}
	if _, err := idb.NewInsert().Model(&r).Exec(ctx); err != nil {
		return Membership{}, mapErr(err)
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
func CreatePayment(ctx context.Context, idb bun.IDB, p NewPayment, now time.Time) (Payment, error) {
	paid := p.PaidAt
	r := paymentRow{ID: ids.New(ids.Payment), UserID: p.UserID, CompanyID: p.CompanyID, MembershipID: ptr(p.MembershipID),
		Currency: p.Currency, Total: p.Total, Subtotal: p.Subtotal, Status: "paid", PaidAt: &paid, CreatedAt: now}
	if _, err := idb.NewInsert().Model(&r).Exec(ctx); err != nil {
		return Payment{}, mapErr(err)
	}
	return toPayment(r), nil
}

// Disputants returns which of the users have a case with one of the companies.
func Disputants(ctx context.Context, idb bun.IDB, userIDs, companyIDs []string) (map[string]bool, error) {
	out := make(map[string]bool, len(userIDs))
	if len(userIDs) == 0 || len(companyIDs) == 0 {
		return out, nil
	}
	var found []string
	err := idb.NewSelect().Model((*resolutionRow)(nil)).Distinct().Column("user_id").
		Where("user_id IN (?)", bun.List(userIDs)).Where("company_id IN (?)", bun.List(companyIDs)).Scan(ctx, &found)
	for _, id := range found {
		out[id] = true
	}
	return out, mapErr(err)
}

// PaysTo reports whether the user has a payment to one of the companies.
func PaysTo(ctx context.Context, idb bun.IDB, userID string, companyIDs []string) (bool, error) {
	if len(companyIDs) == 0 {
		return false, nil
	}
	ok, err := idb.NewSelect().Model((*paymentRow)(nil)).
		Where("user_id = ?", userID).Where("company_id IN (?)", bun.List(companyIDs)).Exists(ctx)
	return ok, mapErr(err)
}

// IsEmpty reports whether the database holds no companies and no users yet.
func IsEmpty(ctx context.Context, idb bun.IDB) (bool, error) {
	c, err := idb.NewSelect().Model((*companyRow)(nil)).Exists(ctx)
	if err != nil {
		return false, mapErr(err)
	}
	u, err := idb.NewSelect().Model((*userRow)(nil)).Exists(ctx)
	return !c && !u, mapErr(err)
}

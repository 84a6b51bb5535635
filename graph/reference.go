package graph

import (
	"context"
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph/model"
	"resolutioncenter/ids"
)

// The reference-data mutations let the platform (or an upstream payments system with a
// platform token) feed companies, users, payments, memberships and tokens.

var (
	routePattern    = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	usernamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// userErrors turns a business refusal into the payload's userErrors. Authentication,
// permission, not-found (indistinguishable from foreign, as in queries) and internal
// errors are returned as top-level errors instead.
func userErrors(err error) ([]*model.UserError, error) {
	var de *dispute.Error
	if !errors.As(err, &de) {
		return nil, err
	}
	switch de.Code {
	case dispute.CodeUnauthenticated, dispute.CodeForbidden, dispute.CodeInternal, dispute.CodeUnavailable,
		dispute.CodeRateLimited, dispute.CodeNotFound, dispute.CodeResponseTooLarge, dispute.CodeCanceled:
		return nil, err
	}
	ue := &model.UserError{Code: de.Code, Message: errorText(de)}
	if de.Field != "" {
		f := de.Field
		ue.Field = &f
	}
	if de.Code == dispute.CodeActionNotAllowed || de.Code == dispute.CodeLimitReached {
		ue.AllowedActions = append([]dispute.Action{}, de.Allowed...)
	}
	return []*model.UserError{ue}, nil
}

// The longest reference texts, in characters (the cost model prices the fields by them).
const (
	maxTitleLen    = 200
	maxRouteLen    = 100
	maxNameLen     = 200
	maxUsernameLen = 100
	maxEmailLen    = 254
)

func checkText(field, v string, min, max int) error {
	n := utf8.RuneCountInString(v)
	switch {
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		return dispute.Invalid(field, "must be valid UTF-8 text without NUL characters")
	case n < min:
		return dispute.Invalid(field, "is required")
	case n > max:
		return dispute.Invalid(field, "is too long")
	}
	return nil
}

func checkID(field, id, prefix string) error {
	if !ids.Is(id, prefix) {
		return dispute.Invalid(field, "malformed ID")
	}
	return nil
}

func (r *Resolver) createCompany(ctx context.Context, in model.CreateCompanyInput) (*model.CreateCompanyPayload, error) {
	if _, err := platform(ctx); err != nil {
		return nil, err
	}
	title := strings.TrimSpace(in.Title) // stored trimmed: checked as stored, so never blank
	err := errors.Join(checkText("title", title, 1, maxTitleLen), checkText("route", in.Route, 1, maxRouteLen))
	if err == nil && !routePattern.MatchString(in.Route) {
		err = dispute.Invalid("route", "use lower-case letters, digits and single dashes")
	}
	var c db.Company
	if err == nil {
		c, err = r.DB.CreateCompany(ctx, title, in.Route, r.now())
	}
	if err != nil {
		ue, err := userErrors(firstErr(err))
		return &model.CreateCompanyPayload{UserErrors: ue}, err
	}
	return &model.CreateCompanyPayload{Company: model.NewCompany(c), UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) createUser(ctx context.Context, in model.CreateUserInput) (*model.CreateUserPayload, error) {
	if _, err := platform(ctx); err != nil {
		return nil, err
	}
	// A name, when given, is stored trimmed and checked as stored, so never blank (as a
	// company's title); without one the user has none.
	name, err := "", error(nil)
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
		err = checkText("name", name, 1, maxNameLen)
	}
	err = errors.Join(err, checkText("username", in.Username, 1, maxUsernameLen), checkText("email", in.Email, 3, maxEmailLen))
	if err == nil && !usernamePattern.MatchString(in.Username) {
		err = dispute.Invalid("username", "use letters, digits, '_', '.' and '-'")
	}
	if err == nil {
		if a, perr := mail.ParseAddress(in.Email); perr != nil || a.Address != in.Email {
			err = dispute.Invalid("email", "not an e-mail address")
		}
	}
	ext := ""
	if err == nil && in.ExternalID != nil {
		ext = *in.ExternalID
		err = checkText("externalId", ext, 1, 255)
	}
	var u db.User
	if err == nil {
		u, err = r.DB.CreateUserRecord(ctx, db.User{Name: name, Username: in.Username, Email: in.Email, ExternalID: ext}, r.now())
	}
	if err != nil {
		ue, err := userErrors(firstErr(err))
		return &model.CreateUserPayload{UserErrors: ue}, err
	}
	return &model.CreateUserPayload{User: model.NewUser(u, true), UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) addTeamMember(ctx context.Context, in model.AddTeamMemberInput) (*model.AddTeamMemberPayload, error) {
	if _, err := platform(ctx); err != nil {
		return nil, err
	}
	err := errors.Join(checkID("companyId", in.CompanyID, ids.Company), checkID("userId", in.UserID, ids.User))
	if err == nil {
		err = r.DB.AddTeamMember(ctx, in.CompanyID, in.UserID, r.now())
	}
	if err != nil {
		ue, err := userErrors(firstErr(err))
		return &model.AddTeamMemberPayload{UserErrors: ue}, err
	}
	c, err := r.company(ctx, in.CompanyID)
	if err != nil {
		return nil, err
	}
	u, err := r.loaders(ctx).Users.Load(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	return &model.AddTeamMemberPayload{Company: c, User: model.NewUser(u, true), UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) createPayment(ctx context.Context, in model.CreatePaymentInput) (*model.CreatePaymentPayload, error) {
	if _, err := platform(ctx); err != nil {
		return nil, err
	}
	err := errors.Join(checkID("userId", in.UserID, ids.User), checkID("companyId", in.CompanyID, ids.Company))
	if err == nil && !currencyPattern.MatchString(in.Currency) {
		err = dispute.Invalid("currency", "an ISO 4217 code in capitals, e.g. USD")
	}
	if err == nil && (in.TotalMinor < 1 || in.TotalMinor > 2147483647) {
		err = dispute.Invalid("totalMinor", "must be between 1 and 2147483647")
	}
	if err == nil && in.SubtotalMinor != nil && (*in.SubtotalMinor < 0 || *in.SubtotalMinor > in.TotalMinor) {
		err = dispute.Invalid("subtotalMinor", "must be between 0 and the total")
	}
	np := db.NewPayment{UserID: in.UserID, CompanyID: in.CompanyID, Currency: in.Currency, Total: int64(in.TotalMinor), PaidAt: r.now()}
	if in.SubtotalMinor != nil {
		s := int64(*in.SubtotalMinor)
		np.Subtotal = &s
	}
	if in.PaidAt != nil {
		np.PaidAt = *in.PaidAt
		if err == nil && np.PaidAt.IsZero() {
			// The first instant of year 1 is the zero time, which the store keeps as "not paid".
			err = dispute.Invalid("paidAt", "must be after 0001-01-01T00:00:00Z")
		}
	}
	if err == nil && in.MembershipID != nil {
		np.MembershipID = *in.MembershipID
		if err = checkID("membershipId", np.MembershipID, ids.Membership); err == nil {
			m, lerr := r.loaders(ctx).Memberships.Load(ctx, np.MembershipID)
			if lerr != nil || m.UserID != in.UserID || m.CompanyID != in.CompanyID {
				err = dispute.Invalid("membershipId", "no membership of this user with this company")
			}
		}
	}
	var pay db.Payment
	if err == nil {
		pay, err = r.DB.CreatePayment(ctx, np, r.now())
	}
	if err != nil {
		ue, err := userErrors(firstErr(err))
		return &model.CreatePaymentPayload{UserErrors: ue}, err
	}
	return &model.CreatePaymentPayload{Payment: &model.Payment{P: pay}, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) createMembership(ctx context.Context, in model.CreateMembershipInput) (*model.CreateMembershipPayload, error) {
	if _, err := platform(ctx); err != nil {
		return nil, err
	}
	err := errors.Join(checkID("userId", in.UserID, ids.User), checkID("companyId", in.CompanyID, ids.Company))
	var m db.Membership
	if err == nil {
		m, err = r.DB.CreateMembership(ctx, in.UserID, in.CompanyID, r.now())
	}
	if err != nil {
		ue, err := userErrors(firstErr(err))
		return &model.CreateMembershipPayload{UserErrors: ue}, err
	}
	return &model.CreateMembershipPayload{Membership: &model.Membership{M: m}, UserErrors: []*model.UserError{}}, nil
}

func (r *Resolver) createToken(ctx context.Context, in model.CreateTokenInput) (*model.CreateTokenPayload, error) {
	if _, err := platform(ctx); err != nil {
		return nil, err
	}
	t := db.Token{}
	err := holder(&t, in.Holder)
	if in.Label != nil {
		// Stored trimmed and checked as stored, so never blank; without one the token has none.
		t.Label = strings.TrimSpace(*in.Label)
		err = errors.Join(err, checkText("label", t.Label, 1, 200))
	}
	scopes := in.Scopes
	if len(scopes) == 0 {
		scopes = []model.Scope{model.ScopeRead}
	}
	for _, s := range scopes {
		name := strings.ToLower(string(s))
		if !contains(t.Scopes, name) {
			t.Scopes = append(t.Scopes, name)
		}
	}
	var clear string
	if err == nil {
		t, clear, err = r.DB.CreateToken(ctx, t, r.now())
	}
	if err != nil {
		ue, err := userErrors(firstErr(err))
		return &model.CreateTokenPayload{UserErrors: ue}, err
	}
	return &model.CreateTokenPayload{Token: &clear, TokenID: &t.ID, UserErrors: []*model.UserError{}}, nil
}

// holder sets whom a token acts as. The schema's @oneOf makes the validator refuse
// two fields or none in a literal, but not in a variable's value (gqlparser does not
// check @oneOf when it coerces variables), so the count is checked here as well.
func holder(t *db.Token, h *model.TokenHolderInput) error {
	if h == nil {
		return dispute.Invalid("holder", "give exactly one of userId, companyId or platform: true")
	}
	set := 0
	var err error
	if h.UserID != nil {
		set++
		t.Kind, t.UserID = db.TokenUser, *h.UserID
		err = checkID("holder.userId", t.UserID, ids.User)
	}
	if h.CompanyID != nil {
		set++
		t.Kind, t.CompanyID = db.TokenCompany, *h.CompanyID
		err = checkID("holder.companyId", t.CompanyID, ids.Company)
	}
	if h.Platform != nil {
		set++
		t.Kind = db.TokenPlatform
		if !*h.Platform {
			err = dispute.Invalid("holder.platform", "must be true (or give userId or companyId instead)")
		}
	}
	if set != 1 {
		return dispute.Invalid("holder", "give exactly one of userId, companyId or platform: true")
	}
	return err
}

// firstErr returns the first error of an errors.Join, so one userError names one field.
func firstErr(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if list := j.Unwrap(); len(list) > 0 {
			return list[0]
		}
	}
	return err
}

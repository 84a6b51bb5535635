package auth_test

import (
	"context"
	"testing"
	"time"

	"resolutioncenter/auth"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

func TestAuthenticateTokensAndRoles(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		biz, other := dbtest.MustCompany(t, d), dbtest.MustCompany(t, d)
		cust, staff := dbtest.MustUser(t, d), dbtest.MustUser(t, d)
		dbtest.MustTeamMember(t, d, biz, staff)
		a := &auth.Authenticator{Store: d, PlatformToken: "op-token", CacheTTL: -1}
		c := dispute.Case{UserID: cust.ID, CompanyID: biz.ID}

		tests := []struct {
			name, token string
			role        dispute.Actor
			manage      bool
		}{
			{"customer", dbtest.MustToken(t, d, db.TokenUser, cust.ID, false), dispute.ActorCustomer, false},
			{"team member", dbtest.MustToken(t, d, db.TokenUser, staff.ID, true), dispute.ActorMerchant, true},
			{"company key", dbtest.MustToken(t, d, db.TokenCompany, biz.ID, true), dispute.ActorMerchant, true},
			{"other company", dbtest.MustToken(t, d, db.TokenCompany, other.ID, true), "", true},
			{"platform", dbtest.MustToken(t, d, db.TokenPlatform, "", false), dispute.ActorPlatform, false},
			{"operator", "op-token", dispute.ActorPlatform, true},
		}
		for _, tt := range tests {
			p, err := a.Authenticate(ctx, tt.token)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if got := p.RoleOn(c); got != tt.role {
				t.Errorf("%s: role %q, want %q", tt.name, got, tt.role)
			}
			if p.CanManage() != tt.manage || !p.CanRead() {
				t.Errorf("%s: scopes %v", tt.name, p.Scopes)
			}
		}
		for _, bad := range []string{"rc_unknown", "", string(make([]byte, 600))} {
			if _, err := a.Authenticate(ctx, bad); !auth.IsAuthError(err) {
				t.Errorf("token %q: err %v, want UNAUTHENTICATED", bad[:min(len(bad), 10)], err)
			}
		}
		for _, h := range []string{"Basic abc", "Bearer", "Bearer  "} {
			if _, err := a.FromHeader(ctx, h); !auth.IsAuthError(err) {
				t.Errorf("header %q: err %v, want UNAUTHENTICATED", h, err)
			}
		}
		if p, err := a.FromHeader(ctx, ""); p != nil || err != nil {
			t.Errorf("no header: %v, %v; want nil, nil", p, err)
		}
	})
}

// TestAuthenticateCachesPrincipals checks that a resolved token is remembered for the
// TTL (no database lookup), and looked up again after it.
func TestAuthenticateCachesPrincipals(t *testing.T) {
	d := dbtest.MustSQLite(t)
	u := dbtest.MustUser(t, d)
	tok := dbtest.MustToken(t, d, db.TokenUser, u.ID, false)
	a := &auth.Authenticator{Store: d, CacheTTL: 200 * time.Millisecond}
	ctx := context.Background()
	p1, err := a.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	d.Close() // a lookup would now fail
	p2, err := a.Authenticate(ctx, tok)
	if err != nil || p2 != p1 {
		t.Fatalf("cached lookup: %v, same=%v", err, p2 == p1)
	}
	time.Sleep(250 * time.Millisecond)
	if _, err := a.Authenticate(ctx, tok); err == nil {
		t.Fatal("expired entry was served without a lookup")
	}
}

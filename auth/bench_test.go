package auth_test

import (
	"context"
	"testing"
	"time"

	"resolutioncenter/auth"
	"resolutioncenter/auth/oidctest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// BenchmarkAuthenticate measures one authentication: an opaque token from the cache,
// a JWT from the cache, and a JWT verified (signature, claims, user lookup) each time,
// per algorithm. The SQLite database is real.
func BenchmarkAuthenticate(b *testing.B) {
	d := dbtest.MustSQLite(b)
	ctx := context.Background()
	u, err := d.CreateUserRecord(ctx, db.User{Username: "bench", Email: "b@example.com", ExternalID: "idp|bench"}, dbtest.Now())
	if err != nil {
		b.Fatal(err)
	}
	opaque := dbtest.MustToken(b, d, db.TokenUser, u.ID, true)
	iss := oidctest.New(b, "rc-api")
	o, err := auth.NewOIDC(ctx, auth.OIDCConfig{Issuer: iss.URL, Audience: "rc-api", ClockSkew: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(o.Close)
	cached := &auth.Authenticator{Store: d, OIDC: o, CacheTTL: time.Hour}
	uncached := &auth.Authenticator{Store: d, OIDC: o, CacheTTL: -1}
	run := func(name string, a *auth.Authenticator, tok string) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := a.Authenticate(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("opaque/cached", cached, opaque)
	run("opaque/lookup", uncached, opaque)
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		tok := iss.SignWith(iss.Key(alg), iss.Claims("idp|bench", time.Hour, nil))
		run("jwt-"+alg+"/cached", cached, tok)
		run("jwt-"+alg+"/verified", uncached, tok)
	}
}

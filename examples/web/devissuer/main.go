// Command devissuer runs the local test issuer (auth/oidctest) for the example frontend
// in examples/web: OpenID Connect discovery and a JWKS on a loopback port, and the
// dev-only token endpoint the page calls to sign a demo user in. Development only: it
// hands a token to whoever asks, so it listens on loopback and nowhere else.
//
//	go run ./examples/web/devissuer        # http://127.0.0.1:9400, audience rc-web-example
//
// The identities are users of the demo data (seeded by the first `go run .` on an empty
// embedded database, with external IDs "demo|<username>") and a platform staff member.
// Settings: -addr / ISSUER_ADDR (port 0 picks a free one), -audience / ISSUER_AUDIENCE.
// It prints the issuer's URL and the server settings to use, then serves until stopped.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"resolutioncenter/auth/oidctest"
)

// identities are the demo sign-ins: subjects of seeded demo users (seed.DemoExternalID)
// and a staff member, who needs no user (the staff group makes the token the platform).
var identities = []oidctest.Identity{
	{Subject: "demo|maya.chen", Name: "Maya Chen", Description: "customer: cases with Lumen Audio and Brightside Coffee"},
	{Subject: "demo|daniel.okafor", Name: "Daniel Okafor", Description: "merchant: team member of Lumen Audio"},
	{Subject: "demo|priya.raman", Name: "Priya Raman", Description: "merchant: team member of Brightside Coffee Roasters"},
	{Subject: "demo|staff", Name: "Platform staff", Description: "platform: moderates every case",
		Claims: oidctest.Claims{"groups": []string{"rc-platform-staff"}}},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devissuer:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("devissuer", flag.ContinueOnError)
	addr := fs.String("addr", envOr(getenv, "ISSUER_ADDR", "127.0.0.1:9400"), "loopback `address` to listen on (ISSUER_ADDR)")
	audience := fs.String("audience", envOr(getenv, "ISSUER_AUDIENCE", "rc-web-example"), "the `aud` of the tokens; the server's OIDC_AUDIENCE (ISSUER_AUDIENCE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	iss, err := oidctest.Listen(*addr, *audience)
	if err != nil {
		return err
	}
	defer iss.Close()
	for _, id := range identities {
		iss.AddIdentity(id)
	}
	fmt.Fprintf(out, "issuer %s (audience %s): %d demo identities at %s/dev/identities\n", iss.URL, iss.Audience, len(identities), iss.URL)
	fmt.Fprintf(out, "start the API with: OIDC_ISSUER=%s OIDC_AUDIENCE=%s go run .\n", iss.URL, iss.Audience)
	<-ctx.Done()
	return nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

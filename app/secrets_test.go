package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"resolutioncenter/app"
	"resolutioncenter/app/apptest"
	"resolutioncenter/auth"
)

// parse reads a serve configuration from env alone.
func parse(env map[string]string) (app.Config, string, error) {
	var out strings.Builder
	cfg, err := app.ParseConfig("serve", nil, func(k string) string { return env[k] }, &out)
	return cfg, out.String(), err
}

// TestShortPlatformTokenRefused (issue 11, item 6): a PLATFORM_TOKEN shorter than 32
// characters is refused at start, unless in development mode (by default only with
// the embedded database of `go run .`). Before: any length was accepted, and a
// 2-character token was guessed in 610 tries.
func TestShortPlatformTokenRefused(t *testing.T) {
	long := strings.Repeat("x", app.MinSecretLength)
	tests := []struct {
		name string
		env  map[string]string
		ok   bool
		dev  bool
	}{
		{"2 characters on PostgreSQL", map[string]string{"DATABASE_URL": "postgres://h/db", "PLATFORM_TOKEN": "ab"}, false, false},
		{"31 characters on an SQLite file", map[string]string{"DATABASE_URL": "sqlite:x.db", "PLATFORM_TOKEN": long[1:]}, false, false},
		{"32 characters", map[string]string{"DATABASE_URL": "postgres://h/db", "PLATFORM_TOKEN": long}, true, false},
		{"short with DEV_MODE=true", map[string]string{"DATABASE_URL": "postgres://h/db", "PLATFORM_TOKEN": "dev", "DEV_MODE": "true"}, true, true},
		{"short on the embedded default (go run .)", map[string]string{"PLATFORM_TOKEN": "dev"}, true, true},
		{"short with DEV_MODE=false on the embedded default", map[string]string{"PLATFORM_TOKEN": "dev", "DEV_MODE": "false"}, false, false},
		{"none at all", map[string]string{"DATABASE_URL": "postgres://h/db"}, true, false},
		{"short METRICS_TOKEN", map[string]string{"DATABASE_URL": "postgres://h/db", "METRICS_TOKEN": "m"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, out, err := parse(tt.env)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "at least 32") {
					t.Errorf("the refusal does not say what is needed: %v", err)
				}
				return
			}
			if cfg.DevMode != tt.dev {
				t.Errorf("DevMode = %v, want %v", cfg.DevMode, tt.dev)
			}
			if !strings.Contains(out, "DEV_MODE") {
				t.Errorf("the printed configuration does not show DEV_MODE:\n%s", out)
			}
			if tt.env["PLATFORM_TOKEN"] != "" && strings.Contains(out, tt.env["PLATFORM_TOKEN"]+"\n") {
				t.Errorf("the printed configuration shows the token")
			}
		})
	}
}

func TestSecretEqual(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{{"abc", "abc", true}, {"abc", "abd", false}, {"abc", "abcd", false}, {"", "x", false}, {"", "", true}} {
		if got := auth.SecretEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("SecretEqual(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

// TestMetricsClosedByDefault (issue 11, item 10): without METRICS_TOKEN, /metrics on
// the API's address answers 404 and shows nothing (before: 200 with every tenant's
// operation names); METRICS_ADDR on loopback serves it without a token; a
// non-loopback METRICS_ADDR without a token is refused at start.
func TestMetricsClosedByDefault(t *testing.T) {
	s := apptest.Start(t, apptest.Options{Env: map[string]string{"METRICS_TOKEN": "", "METRICS_ADDR": "127.0.0.1:0"}})
	s.MustData(t, apptest.PlatformToken, `query SecretTenantOperation { viewer { role } }`, nil, nil)
	ctx := context.Background()
	for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer "}, {"Authorization": "Bearer " + apptest.PlatformToken}} {
		status, body, err := apptest.Get(ctx, s.Base+"/metrics", hdr)
		if err != nil || status != http.StatusNotFound || strings.Contains(body, "SecretTenantOperation") {
			t.Errorf("/metrics on the API address with %v: %d %v %.200s; want 404 and no metrics", hdr, status, err, body)
		}
	}
	if s.MetricsAddr() == "" {
		t.Fatal("no metrics listener")
	}
	status, body, err := apptest.Get(ctx, "http://"+s.MetricsAddr()+"/metrics", nil)
	if err != nil || status != http.StatusOK || !strings.Contains(body, `operation="SecretTenantOperation"`) {
		t.Errorf("METRICS_ADDR /metrics: %d %v %.200s", status, err, body)
	}
	// Without a token it answers this machine by name only: a page of another name
	// resolving here (DNS rebinding) in a local browser reads nothing.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.MetricsAddr()+"/metrics", nil)
	req.Host = "rebind.attacker.example:9464"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || strings.Contains(string(b), "SecretTenantOperation") {
		t.Errorf("METRICS_ADDR for another host name: %d %.200s, want 403 and no metrics", resp.StatusCode, b)
	}

	if _, _, err := parse(map[string]string{"METRICS_ADDR": "0.0.0.0:9464"}); err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
		t.Errorf("a non-loopback METRICS_ADDR without a token: err = %v, want a refusal", err)
	}
	if _, _, err := parse(map[string]string{"METRICS_ADDR": "0.0.0.0:9464", "METRICS_TOKEN": strings.Repeat("m", 32)}); err != nil {
		t.Errorf("a non-loopback METRICS_ADDR with a token: %v", err)
	}
}

// TestPprofLoopbackOnly: pprof has no credential (and /debug/pprof/cmdline shows the
// flags, a -platform-token included), so PPROF_ADDR is refused off loopback.
func TestPprofLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "10.0.0.5:6060", "[::]:6060"} {
		if _, _, err := parse(map[string]string{"PPROF_ADDR": addr}); err == nil || !strings.Contains(err.Error(), "PPROF_ADDR") {
			t.Errorf("PPROF_ADDR=%s: err = %v, want a refusal", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:6060"} {
		if _, _, err := parse(map[string]string{"PPROF_ADDR": addr}); err != nil {
			t.Errorf("PPROF_ADDR=%s: %v", addr, err)
		}
	}
}

// TestConfigMasksDatabasePassword: the printed configuration masks the database's
// password in the URL's user part and as a query parameter (which pgx accepts too).
func TestConfigMasksDatabasePassword(t *testing.T) {
	for _, url := range []string{
		"postgres://rc:hunter2-secret@db.internal:5432/rc?sslmode=require",
		"postgres://rc@db.internal:5432/rc?sslmode=require&password=hunter2-secret",
		"postgres://rc@db.internal:5432/rc?password=hunter2-secret",
		"host=db.internal user=rc password=hunter2-secret dbname=rc",
		"host=db.internal user=rc password='hunter2-secret' dbname=rc",
		// A password with a reserved character left unencoded: the URL does not
		// parse (or parses into the wrong parts), and must not be printed in clear.
		"postgres://rc:hunter2#secret@db.internal:5432/rc",
		"postgres://rc:hunter2/secret@db.internal:5432/rc",
		"postgres://rc:hunter2?secret@db.internal:5432/rc",
		"postgres://rc:100%hunter2@db.internal:5432/rc",
		"postgres://rc:hunter2 secret@db.internal:5432/rc",
		"postgres://rc:12/hunter2@db.internal:5432/rc",
		"postgres://rc:pw@db.internal:5432/rc?password=hunter2&x=%zz",
	} {
		_, out, err := parse(map[string]string{"DATABASE_URL": url})
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if strings.Contains(out, "hunter2") || !strings.Contains(out, "db.internal") {
			t.Errorf("%s printed as:\n%s", url, out)
		}
	}
}

// TestMetricsTokenOnBothListeners: with METRICS_TOKEN, both the API's address and
// METRICS_ADDR require it.
func TestMetricsTokenOnBothListeners(t *testing.T) {
	const token = "metrics-token-for-both-listeners-0123"
	s := apptest.Start(t, apptest.Options{Env: map[string]string{"METRICS_TOKEN": token, "METRICS_ADDR": "127.0.0.1:0"}})
	for _, base := range []string{s.Base, "http://" + s.MetricsAddr()} {
		for hdr, want := range map[string]int{"": 401, "Bearer wrong": 401, "Bearer " + token + "x": 401, "Bearer " + token: 200} {
			req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
			if hdr != "" {
				req.Header.Set("Authorization", hdr)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s/metrics with %q: %d, want %d", base, hdr, resp.StatusCode, want)
			}
		}
	}
}

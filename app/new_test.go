package app_test

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"resolutioncenter/app"
	"resolutioncenter/app/apptest"
)

// TestNewFailsCleanly: when the server cannot listen (the address is taken), New returns
// the error instead of panicking, and closes what it had opened: the database it opened
// is released, so the next New on the same file starts and serves.
func TestNewFailsCleanly(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	file := filepath.Join(t.TempDir(), "rc.db")
	env := map[string]string{}
	for k, v := range apptest.Defaults {
		env[k] = v
	}
	env["DATABASE_URL"] = "sqlite:" + file
	env["ADDR"] = taken.Addr().String()
	cfg, err := app.ParseConfig("serve", nil, func(k string) string { return env[k] }, apptest.NewOutput())
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg)
	if err == nil {
		a.Close()
		t.Fatal("New listened on an address that is taken")
	}
	if a != nil {
		t.Errorf("New returned an App beside its error %v", err)
	}
	if !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("error = %v, want the listen failure", err)
	}

	s := apptest.Start(t, apptest.Options{Env: map[string]string{"DATABASE_URL": "sqlite:" + file}})
	s.MustData(t, apptest.PlatformToken, `{ viewer { role } }`, nil, nil)
}

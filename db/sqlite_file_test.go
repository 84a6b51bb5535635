//go:build unix

package db_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"resolutioncenter/db"
)

// TestSQLiteFileIsPrivate: a new embedded database (and the folder made for it) is
// readable by its owner only, whatever the umask: it holds e-mails, messages and token
// hashes. It was created 0644 in a 0755 folder, readable by every user of the machine.
// SQLite gives the write-ahead log and shared-memory files the database's mode.
func TestSQLiteFileIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "rc.db")
	d, err := db.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s: mode %v, want no access for group and others", filepath.Base(p), perm)
		}
	}

	// An existing file keeps the mode its owner gave it.
	shared := filepath.Join(t.TempDir(), "shared.db")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	d2, err := db.Open(context.Background(), "sqlite:"+shared)
	if err != nil {
		t.Fatal(err)
	}
	d2.Close()
	if st, err := os.Stat(shared); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("an existing database file's mode changed: %v %v", st.Mode(), err)
	}
}

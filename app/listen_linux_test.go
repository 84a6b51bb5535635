package app

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestListenSetsUserTimeout: the API's connections carry TCP_USER_TIMEOUT =
// WRITE_TIMEOUT (inherited from the listening socket), so a client that stops
// acknowledging what is written (it vanished, or stopped reading) is disconnected
// within it; WRITE_TIMEOUT 0 leaves the system's default.
func TestListenSetsUserTimeout(t *testing.T) {
	for _, c := range []struct {
		writeTimeout time.Duration
		want         int
	}{{7 * time.Second, 7000}, {0, 0}} {
		ln, err := listen(context.Background(), "127.0.0.1:0", c.writeTimeout)
		if err != nil {
			t.Fatal(err)
		}
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := conn.(syscall.Conn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var got int
		var gerr error
		if err := raw.Control(func(fd uintptr) {
			got, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT)
		}); err != nil || gerr != nil {
			t.Fatal(err, gerr)
		}
		if got != c.want {
			t.Errorf("WRITE_TIMEOUT %s: an accepted connection's TCP_USER_TIMEOUT is %d ms, want %d", c.writeTimeout, got, c.want)
		}
		conn.Close()
		client.Close()
		ln.Close()
	}
}

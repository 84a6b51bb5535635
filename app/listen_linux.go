package app

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// userTimeout sets TCP_USER_TIMEOUT on the listening socket, which the connections it
// accepts inherit: data the client has not acknowledged within d (it vanished without
// closing, or stopped reading) closes the connection. A write deadline alone cannot
// tell: a write returns once the kernel has the bytes, and TCP keeps retransmitting
// them for up to about 15 minutes, during which keep-alive probes are not sent. SSE
// streams write a comment every SSE_KEEPALIVE, so a vanished client is found within
// SSE_KEEPALIVE + d.
func userTimeout(d time.Duration) func(network, address string, c syscall.RawConn) error {
	if d <= 0 {
		return nil
	}
	ms := int(d.Milliseconds())
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, ms)
		}); err != nil {
			return err
		}
		return serr
	}
}

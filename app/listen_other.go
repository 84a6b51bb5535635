//go:build !linux

package app

import (
	"syscall"
	"time"
)

// userTimeout: TCP_USER_TIMEOUT is Linux's; elsewhere unacknowledged data is left to
// the system's retransmission limit (see listen_linux.go).
func userTimeout(time.Duration) func(network, address string, c syscall.RawConn) error { return nil }

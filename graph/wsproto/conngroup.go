package wsproto

import (
	"errors"
	"sync"
)

// errShuttingDown refuses a legacy-protocol connection upgraded after ConnGroup.Close.
var errShuttingDown = errors.New("wsproto: server shutting down")

// ConnGroup counts a server's open WebSocket connections (both protocols), so that
// shutdown can wait until each has sent its last complete and close frame.
//
// It is not a sync.WaitGroup because connections may join while shutdown waits: the
// HTTP server stops tracking a connection once it is hijacked, so an upgrade that was in
// flight when Shutdown began can complete after Shutdown returned. A WaitGroup forbids
// an Add from zero concurrent with Wait (the race detector reports it); a ConnGroup
// refuses that connection instead, which closes with 1001 (going away), as every other
// connection does at shutdown.
//
// The zero value is ready to use.
type ConnGroup struct {
	mu     sync.Mutex
	n      int
	closed bool
	done   chan struct{}
}

// join counts a new connection; false once Close was called (the caller refuses it).
func (g *ConnGroup) join() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	return true
}

// leave uncounts a connection that join counted.
func (g *ConnGroup) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.n == 0 && g.closed {
		close(g.done)
	}
}

// Open is the number of connections counted now.
func (g *ConnGroup) Open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// Close refuses connections from now on and returns a channel that is closed once
// every counted connection has ended. Calling it again returns the same channel.
func (g *ConnGroup) Close() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed = true
		g.done = make(chan struct{})
		if g.n == 0 {
			close(g.done)
		}
	}
	return g.done
}

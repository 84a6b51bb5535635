package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// subscriberSet is n resolutionEventAdded subscriptions over WebSocket connections
// spread round-robin across the server URLs.
type subscriberSet struct {
	n       int
	conns   []*websocket.Conn
	d       *deliveries
	cancel  context.CancelFunc
	readers sync.WaitGroup
	perCase []int         // subscriptions on each case
	setup   time.Duration // time to open them all
}

// openSubscribers opens n subscriptions, subsPerConn per connection, on caseIDs in
// turn. Each connection authenticates with a platform READ token; a token carries at
// most perToken subscriptions (the server's per-principal limit).
func (e *env) openSubscribers(ctx context.Context, n int, caseIDs []string) (*subscriberSet, error) {
	spc := max(1, e.opts.SubsPerConn)
	numConns := (n + spc - 1) / spc
	connsPerToken := max(1, e.opts.SubsPerToken/spc)
	tokens, err := e.readTokens(ctx, (numConns+connsPerToken-1)/connsPerToken)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &subscriberSet{n: n, conns: make([]*websocket.Conn, numConns), d: &deliveries{seen: make([]atomic.Bool, n)}, cancel: cancel,
		perCase: make([]int, len(caseIDs))}
	for i := 0; i < n; i++ {
		s.perCase[i%len(caseIDs)]++
	}
	hc := newWSHTTPClient()
	start := time.Now()
	var (
		mu       sync.Mutex
		firstErr error
		failed   int
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 32)
	)
	for j := 0; j < numConns; j++ {
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(j int) {
			defer wg.Done()
			defer func() { <-sem }()
			url := e.opts.URLs[j%len(e.opts.URLs)]
			c, err := dialSubscriber(ctx, hc, url, tokens[j/connsPerToken])
			for k := j * spc; err == nil && k < min(n, (j+1)*spc); k++ {
				err = subscribe(ctx, c, fmt.Sprint(k), caseIDs[k%len(caseIDs)])
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				if firstErr == nil {
					firstErr = fmt.Errorf("subscriber %d on %s: %w", j, url, err)
				}
				if c != nil {
					c.CloseNow()
				}
				return
			}
			s.conns[j] = c
			s.readers.Add(1)
			go func() { defer s.readers.Done(); s.d.read(rctx, c) }()
		}(j)
		if (j+1)%1000 == 0 {
			e.logf("  %d/%d connections", j+1, numConns)
		}
	}
	wg.Wait()
	s.setup = time.Since(start)
	if firstErr != nil {
		s.close()
		return nil, fmt.Errorf("%d of %d connections failed; first: %w", failed, numConns, firstErr)
	}
	return s, ctx.Err()
}

// close ends every connection with a normal closure (32 at a time) and waits for the
// readers.
func (s *subscriberSet) close() {
	s.d.closing.Store(true)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for _, c := range s.conns {
		if c == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(c *websocket.Conn) {
			defer wg.Done()
			defer func() { <-sem }()
			done := make(chan struct{})
			go func() { _ = c.Close(websocket.StatusNormalClosure, ""); close(done) }()
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				c.CloseNow()
			}
		}(c)
	}
	wg.Wait()
	s.cancel()
	s.readers.Wait()
}

// confirm makes sure every subscription is live before anything is measured. The
// protocol does not acknowledge a subscribe, so it commits a sentinel action (a
// customer message on the case) and waits until every subscription has received an
// event, repeating the action each second for subscriptions that registered after it.
// Each round acts perRound times (once on each case). It returns the number of
// sentinel actions.
func (s *subscriberSet) confirm(ctx context.Context, act func(context.Context, int) error, perRound int) (int, error) {
	deadline := time.Now().Add(30*time.Second + time.Duration(s.n)*5*time.Millisecond)
	for i := 0; ; i += perRound {
		for j := i; j < i+perRound; j++ {
			if err := act(ctx, j); err != nil {
				return j, fmt.Errorf("sentinel action: %w", err)
			}
		}
		next := time.Now().Add(time.Second)
		for time.Now().Before(next) {
			if s.d.seenCount.Load() >= int64(s.n) {
				time.Sleep(200 * time.Millisecond) // let the last sentinel deliveries land
				return i + perRound, nil
			}
			if ctx.Err() != nil || time.Now().After(deadline) {
				return i + perRound, fmt.Errorf("%d of %d subscriptions received the sentinel events", s.d.seenCount.Load(), s.n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

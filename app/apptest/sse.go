package apptest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// SSEEvent is one Server-Sent Event: its type ("next", "complete", ...) and data.
type SSEEvent struct {
	Event string
	Data  json.RawMessage
}

// SSE is one subscription over Server-Sent Events (graphql-sse's distinct connections
// mode): a POST with Accept: text/event-stream whose response streams `event: next`
// with a GraphQL response in `data:`, then `event: complete`. A goroutine reads the
// stream into a channel, so Read and TryRead with a timeout never break the stream.
type SSE struct {
	// Status and Header are the response's.
	Status int
	Header http.Header

	tb     testing.TB
	cancel context.CancelFunc
	events chan SSEEvent
	done   chan struct{}
	err    error // why the stream ended; read after done is closed
}

// ErrStreamEnded is returned by TryRead once the stream ended and every event was read.
var ErrStreamEnded = errors.New("sse: stream ended")

// ErrTimeout is returned by TryRead when no event arrived in time; the stream goes on.
var ErrTimeout = errors.New("sse: no event in time")

// DialSSE starts a subscription over SSE as token ("" for none), failing the test on
// a transport error. The stream is closed when the test ends.
func DialSSE(tb testing.TB, url, token, query string, vars map[string]any) *SSE {
	tb.Helper()
	s, err := OpenSSE(context.Background(), url, token, query, vars)
	if err != nil {
		tb.Fatalf("sse: %v", err)
	}
	s.tb = tb
	tb.Cleanup(s.Close)
	return s
}

// OpenSSE is DialSSE without a test: for goroutines and benchmarks. Close it when done.
func OpenSSE(ctx context.Context, url, token, query string, vars map[string]any) (*SSE, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := sseClient.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	s := &SSE{Status: resp.StatusCode, Header: resp.Header, cancel: cancel,
		events: make(chan SSEEvent, 1024), done: make(chan struct{})}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// Not a stream (e.g. a 401 or 413 answered as JSON): hand the body over as
		// one event named after the status.
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s.events <- SSEEvent{Event: fmt.Sprintf("http-%d", resp.StatusCode), Data: raw}
		close(s.events)
		s.err = fmt.Errorf("sse: not a stream: %s %s", resp.Status, resp.Header.Get("Content-Type"))
		close(s.done)
		return s, nil
	}
	go s.read(resp.Body)
	return s, nil
}

// sseClient has no overall timeout (streams are long) and enough connections per host
// for many concurrent subscriptions.
var sseClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 0,
	ResponseHeaderTimeout: 30 * time.Second, DisableCompression: true}}

func (s *SSE) read(body io.ReadCloser) {
	defer close(s.done)
	defer close(s.events)
	defer body.Close()
	r := bufio.NewReaderSize(body, 64<<10)
	var ev SSEEvent
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = ErrStreamEnded
			}
			s.err = err
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if ev.Event != "" || len(data) > 0 {
				if ev.Event == "" {
					ev.Event = "message"
				}
				if len(data) > 0 {
					ev.Data = json.RawMessage(strings.Join(data, "\n"))
				}
				s.events <- ev
			}
			ev, data = SSEEvent{}, nil
		case strings.HasPrefix(line, ":"): // a comment: keep-alive
		case strings.HasPrefix(line, "event:"):
			ev.Event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
}

// TryRead returns the next event, ErrTimeout when none arrived within timeout (the
// stream goes on), or ErrStreamEnded (or the read error) once the stream ended.
func (s *SSE) TryRead(timeout time.Duration) (SSEEvent, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case ev, ok := <-s.events:
		if !ok {
			return SSEEvent{}, s.err
		}
		return ev, nil
	case <-t.C:
		return SSEEvent{}, ErrTimeout
	}
}

// Read returns the next event, failing the test when none arrives within timeout.
func (s *SSE) Read(timeout time.Duration) SSEEvent {
	s.tb.Helper()
	ev, err := s.TryRead(timeout)
	if err != nil {
		s.tb.Fatalf("sse read: %v", err)
	}
	return ev
}

// Events returns the channel of events, closed when the stream ends.
func (s *SSE) Events() <-chan SSEEvent { return s.events }

// Done is closed when the stream ended; Err then tells why.
func (s *SSE) Done() <-chan struct{} { return s.done }

// Err tells why the stream ended (ErrStreamEnded for a clean end of the response).
// Call it after Done is closed.
func (s *SSE) Err() error { return s.err }

// Close ends the stream from the client side.
func (s *SSE) Close() {
	s.cancel()
	<-s.done
}

// Pump reads a WebSocket's messages into a channel until the connection ends, so that
// waiting with a timeout never closes the connection (a timed-out read does). The
// channel is closed when the connection ends; the returned function then gives the
// error that ended it. Call it once per connection, before reading any message.
func Pump(w *WS) (<-chan WSMessage, func() error) {
	c := make(chan WSMessage, 1024)
	var mu sync.Mutex
	var end error
	go func() {
		defer close(c)
		for {
			m, err := w.TryRead(24 * time.Hour)
			if err != nil {
				mu.Lock()
				end = err
				mu.Unlock()
				return
			}
			c <- m
		}
	}()
	return c, func() error { mu.Lock(); defer mu.Unlock(); return end }
}

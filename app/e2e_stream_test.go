package app_test

// What the end-to-end tests' subscriptions receive, over graphql-transport-ws and
// Server-Sent Events (apptest's clients), recorded for the scenario's checks.

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/app/apptest"
)

// stream is what one subscription received.
type stream struct {
	name      string
	principal string
	caseKey   string // resolutionEventAdded on this case; "" for resolutionUpdated
	allowed   func(caseKey string) bool
	wantCode  string // a subscription meant to be refused with this code

	mu        sync.Mutex
	positions []int
	latency   []time.Duration
	versions  map[string][]int // by case ID
	codes     []string
	completed bool
	ended     bool // the transport ended (connection closed, response over)
	closeCode websocket.StatusCode
	problems  []string
}

func (s *stream) problem(format string, args ...any) {
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

// next records one result (a GraphQL response).
func (s *stream) next(payload []byte) {
	now := time.Now()
	var r struct {
		Data struct {
			ResolutionEventAdded *struct {
				Cursor string
				Node   struct {
					Position  int
					CreatedAt time.Time
				}
			}
			ResolutionUpdated *struct {
				ID      string
				Version int
			}
		}
		Errors []apptest.Error
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.completed {
		s.problem("result after complete: %s", payload)
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		s.problem("bad payload %s: %v", payload, err)
		return
	}
	for _, e := range r.Errors {
		s.codes = append(s.codes, e.Code())
	}
	switch {
	case r.Data.ResolutionEventAdded != nil:
		s.positions = append(s.positions, r.Data.ResolutionEventAdded.Node.Position)
		s.latency = append(s.latency, now.Sub(r.Data.ResolutionEventAdded.Node.CreatedAt))
	case r.Data.ResolutionUpdated != nil:
		if s.versions == nil {
			s.versions = map[string][]int{}
		}
		u := r.Data.ResolutionUpdated
		s.versions[u.ID] = append(s.versions[u.ID], u.Version)
	case len(r.Errors) == 0:
		s.problem("empty result %s", payload)
	}
}

func (s *stream) errors(payload []byte) {
	var list []apptest.Error
	_ = json.Unmarshal(payload, &list)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range list {
		s.codes = append(s.codes, e.Code())
	}
	if len(list) == 0 {
		s.problem("error message without errors: %s", payload)
	}
}

func (s *stream) complete() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.completed = true
}

// wsConn is one WebSocket connection carrying several subscriptions.
type wsConn struct {
	ws      *apptest.WS
	streams map[string]*stream // by operation ID
	done    chan struct{}
}

// dialWSConn opens a WebSocket as token (its connection_init carries the
// Authorization).
func dialWSConn(t *testing.T, url, token string) *wsConn {
	t.Helper()
	ws := apptest.DialWS(t, url, map[string]any{"Authorization": "Bearer " + token})
	return &wsConn{ws: ws, streams: map[string]*stream{}, done: make(chan struct{})}
}

// subscribe starts subscription id on the connection, recorded into s.
func (c *wsConn) subscribe(id string, s *stream, query string, vars map[string]any) {
	c.streams[id] = s
	c.ws.Subscribe(id, query, vars)
}

// run reads the connection until it ends; call it after the first subscribe.
func (c *wsConn) run() {
	msgs, end := apptest.Pump(c.ws)
	streams := map[string]*stream{}
	for id, s := range c.streams {
		streams[id] = s
	}
	go func() {
		defer close(c.done)
		for m := range msgs {
			s := streams[m.ID]
			if s == nil {
				continue
			}
			switch m.Type {
			case "next":
				s.next(m.Payload)
			case "error":
				s.errors(m.Payload)
			case "complete":
				s.complete()
			default:
				s.mu.Lock()
				s.problem("unexpected message %s %s", m.Type, m.Payload)
				s.mu.Unlock()
			}
		}
		code := websocket.CloseStatus(end())
		for _, s := range streams {
			s.mu.Lock()
			s.ended, s.closeCode = true, code
			s.mu.Unlock()
		}
	}()
}

// subscribeSSE runs one subscription over SSE into a stream.
func subscribeSSE(t *testing.T, url, token string, s *stream, query string, vars map[string]any) chan struct{} {
	t.Helper()
	sse := apptest.DialSSE(t, url, token, query, vars)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range sse.Events() {
			switch ev.Event {
			case "next":
				s.next(ev.Data)
			case "complete":
				s.complete()
			default:
				s.mu.Lock()
				s.problem("unexpected SSE event %s %s", ev.Event, ev.Data)
				s.mu.Unlock()
			}
		}
		s.mu.Lock()
		s.ended = true
		s.mu.Unlock()
	}()
	return done
}

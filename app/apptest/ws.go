package apptest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// WSMessage is one graphql-transport-ws message.
type WSMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// WS is a graphql-transport-ws client connection.
type WS struct {
	tb   testing.TB
	Conn *websocket.Conn
}

// DialWS opens a graphql-transport-ws connection to url (http:// is turned into ws://)
// and, unless initPayload is nil, sends connection_init with it and waits for the ack.
func DialWS(tb testing.TB, url string, initPayload map[string]any) *WS {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(url, "http", "ws", 1), &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(16 << 20)
	ws := &WS{tb: tb, Conn: c}
	tb.Cleanup(func() { c.Close(websocket.StatusNormalClosure, "") })
	if initPayload != nil {
		ws.Send(WSMessage{Type: "connection_init", Payload: mustJSON(initPayload)})
		if m := ws.Read(10 * time.Second); m.Type != "connection_ack" {
			tb.Fatalf("want connection_ack, got %+v", m)
		}
	}
	return ws
}

// Subscribe sends a subscribe message.
func (w *WS) Subscribe(id, query string, vars map[string]any) {
	w.tb.Helper()
	w.Send(WSMessage{ID: id, Type: "subscribe", Payload: mustJSON(map[string]any{"query": query, "variables": vars})})
}

// Send writes one message.
func (w *WS) Send(m WSMessage) {
	w.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Conn.Write(ctx, websocket.MessageText, mustJSON(m)); err != nil {
		w.tb.Fatalf("ws write: %v", err)
	}
}

// Read returns the next message other than ping/pong, failing the test after timeout.
func (w *WS) Read(timeout time.Duration) WSMessage {
	w.tb.Helper()
	m, err := w.TryRead(timeout)
	if err != nil {
		w.tb.Fatalf("ws read: %v", err)
	}
	return m
}

// TryRead returns the next message other than ping/pong, or the read error (a close
// frame shows as a websocket.CloseError; websocket.CloseStatus(err) gives its code).
func (w *WS) TryRead(timeout time.Duration) (WSMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		_, b, err := w.Conn.Read(ctx)
		if err != nil {
			return WSMessage{}, err
		}
		var m WSMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return WSMessage{}, err
		}
		switch m.Type {
		case "ping":
			_ = w.Conn.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
			continue
		case "pong", "ka":
			continue
		}
		return m, nil
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

package app_test

// Clients that stop reading (issue 11, item 2): six sockets that asked for a large
// answer and never read kept the server 465 MB higher for 60 s. Now every response,
// event-stream message and WebSocket frame must be taken within WRITE_TIMEOUT; a
// client that does not is disconnected and what it held is released.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"resolutioncenter/app/apptest"
)

// dialTiny opens a TCP connection whose receive buffer is a few KB, so that a client
// that does not read makes the server's writes block soon.
func dialTiny(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	return c, nil
}

// slowReaderQuery asks for the same 100 messages of 10,000 characters under twelve
// aliases: a 12 MB answer from one fetch of 1 MB (a loader shares identical pages).
var slowReaderQuery = func() string {
	var b strings.Builder
	b.WriteString("query($id: ID!) { resolution(id: $id) { ")
	for i := range 12 {
		fmt.Fprintf(&b, "a%d: events(first: 100) { nodes { details } } ", i)
	}
	return b.String() + "} }"
}()

// TestSlowReadersAreCut: six raw sockets ask for a 12 MB answer and never read. With
// WRITE_TIMEOUT=1s the server gives each up about a second after it started writing:
// its goroutines and heap are back to where they were (the connections are closed; what
// the kernel had already buffered for them is its own business).
func TestSlowReadersAreCut(t *testing.T) {
	dbURL, fx := sqliteWithFixture(t, 2)
	big := fillForSizeAttacks(t, dbURL, fx)
	const writeTimeout = time.Second
	// The answer must outgrow what the kernel buffers (up to 4 MB for the server's
	// send buffer here): allow 64 MB, and the cost of twelve aliases.
	s := apptest.Start(t, apptest.Options{Env: map[string]string{"DATABASE_URL": dbURL, "WRITE_TIMEOUT": writeTimeout.String(),
		"MAX_RESPONSE_BYTES": fmt.Sprint(64 << 20), "MAX_COMPLEXITY": "200000"}})
	apptest.MustQuery(t, s.URL, big.token, `{ viewer { role } }`, nil, nil)
	apptest.CloseIdleConnections()
	time.Sleep(100 * time.Millisecond)
	runtime.GC()
	goroutines0, heap0 := runtime.NumGoroutine(), heapObjects()

	body, _ := json.Marshal(map[string]any{"query": slowReaderQuery, "variables": map[string]any{"id": big.ascii}})
	req := apptest.RawPost(s.Addr(), big.token, map[string]string{"Accept": "application/json"}, body, false)
	const sockets = 6
	var conns []net.Conn
	for range sockets {
		c, err := dialTiny(context.Background(), s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	sent := time.Now()
	// The answers are built and written until the sockets' buffers are full: memory
	// is held. Then it must be released: goroutines back, heap back after a
	// collection. (Sampling the heap without collecting, collecting every 200 ms.)
	var peakHeap uint64
	var peakG int
	var released time.Duration
	deadline := time.Now().Add(60 * time.Second) // a loaded machine under -race builds the answers slowly
	for i := 0; ; i++ {
		peakHeap, peakG = max(peakHeap, heapObjects()), max(peakG, runtime.NumGoroutine())
		if i%10 == 9 {
			runtime.GC()
			g, h := runtime.NumGoroutine(), heapObjects()
			if peakHeap > heap0+12<<20 && g <= goroutines0+2 && h < heap0+8<<20 {
				released = time.Since(sent)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %s the server still holds %d goroutines (%d before) and %s of heap (%s before; peak %s)",
					time.Since(sent).Round(time.Millisecond), g, goroutines0, fmtMB(float64(h)), fmtMB(float64(heap0)), fmtMB(float64(peakHeap)))
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d sockets asking for 12 MB and never reading: heap peaked %s over its %s, %d goroutines over %d; all released %s after the requests (WRITE_TIMEOUT=%s)",
		sockets, fmtMB(float64(peakHeap-heap0)), fmtMB(float64(heap0)), peakG-goroutines0, goroutines0, released.Round(100*time.Millisecond), writeTimeout)
	// The server still answers.
	apptest.MustQuery(t, s.URL, big.token, `{ viewer { role } }`, nil, nil)
}

// TestSlowStreamReadersAreCut: a subscriber over SSE, over legacy graphql-ws and over
// graphql-transport-ws stops reading while 40 KB events keep coming. Each is
// disconnected about WRITE_TIMEOUT after its first write blocked, its subscription
// ends and its connection is uncounted; readers that keep reading are not affected.
func TestSlowStreamReadersAreCut(t *testing.T) {
	dbURL, fx := sqliteWithFixture(t, 1)
	const writeTimeout = time.Second
	s := apptest.Start(t, apptest.Options{Env: map[string]string{"DATABASE_URL": dbURL, "WRITE_TIMEOUT": writeTimeout.String()}})
	caseID := fx.Cases[0]
	sub := `subscription($id: ID!) { resolutionEventAdded(resolutionId: $id) { node { position details } } }`
	vars := map[string]any{"id": caseID}
	tiny := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return dialTiny(ctx, addr) }}}

	// SSE: a raw socket that sends the request and never reads.
	sseConn, err := dialTiny(context.Background(), s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer sseConn.Close()
	body, _ := json.Marshal(map[string]any{"query": sub, "variables": vars})
	if _, err := fmt.Fprintf(sseConn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n"+
		"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", s.Addr(), fx.CustomerToken, len(body), body); err != nil {
		t.Fatal(err)
	}
	// Legacy graphql-ws and graphql-transport-ws, subscribed, then never read.
	ctx := context.Background()
	legacy, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &websocket.DialOptions{HTTPClient: tiny, Subprotocols: []string{"graphql-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer legacy.CloseNow()
	modern, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &websocket.DialOptions{HTTPClient: tiny, Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer modern.CloseNow()
	subPayload, _ := json.Marshal(map[string]any{"query": sub, "variables": vars})
	for _, m := range []struct {
		c         *websocket.Conn
		init, sub string
	}{
		{legacy, `{"type":"connection_init","payload":{"Authorization":"Bearer ` + fx.CustomerToken + `"}}`, `{"id":"1","type":"start","payload":` + string(subPayload) + `}`},
		{modern, `{"type":"connection_init","payload":{"Authorization":"Bearer ` + fx.CustomerToken + `"}}`, `{"id":"1","type":"subscribe","payload":` + string(subPayload) + `}`},
	} {
		if err := m.c.Write(ctx, websocket.MessageText, []byte(m.init)); err != nil {
			t.Fatal(err)
		}
		if _, ack, err := m.c.Read(ctx); err != nil || !strings.Contains(string(ack), "connection_ack") {
			t.Fatalf("init: %s %v", ack, err)
		}
		if err := m.c.Write(ctx, websocket.MessageText, []byte(m.sub)); err != nil {
			t.Fatal(err)
		}
	}
	// A reader that keeps up, over SSE.
	good := apptest.DialSSE(t, s.URL, fx.CustomerToken, sub, vars)
	eventually(t, 10*time.Second, func() bool { return s.Hub.Stats().EventSubscribers == 4 }, "four subscribers")
	gauge := func(transport string) float64 {
		return metricValue(t, s, "rc_stream_connections", map[string]string{"transport": transport})
	}
	if gauge("sse") != 2 || gauge("graphql-ws") != 1 || gauge("websocket") != 1 {
		t.Fatalf("rc_stream_connections: sse %v, graphql-ws %v, websocket %v; want 2, 1, 1", gauge("sse"), gauge("graphql-ws"), gauge("websocket"))
	}

	// 200 events of 40 KB (8 MB): more than the socket buffers hold.
	details := strings.Repeat("😀", 10000)
	start := time.Now()
	got := 0
	for i := range 200 {
		apptest.MustQuery(t, s.URL, apptest.PlatformToken, chargeback, map[string]any{"id": caseID, "d": details}, nil)
		for drained := false; !drained; {
			select {
			case <-good.Events():
				got++
			default:
				drained = true
			}
		}
		if i%20 == 0 && s.Hub.Stats().EventSubscribers == 1 {
			break
		}
	}
	eventually(t, 15*time.Second, func() bool { return s.Hub.Stats().EventSubscribers == 1 }, "the three slow subscribers ended")
	cut := time.Since(start)
	eventually(t, 10*time.Second, func() bool { return gauge("sse") == 1 && gauge("graphql-ws") == 0 && gauge("websocket") == 0 },
		"the slow connections uncounted")
	t.Logf("three subscribers that stopped reading were cut %s after 40 KB events began (WRITE_TIMEOUT=%s); the reading one got %d events meanwhile",
		cut.Round(100*time.Millisecond), writeTimeout, got)
	if got == 0 {
		t.Error("the reading subscriber got nothing")
	}
	// The reading subscriber is still served.
	apptest.MustQuery(t, s.URL, apptest.PlatformToken, chargeback, map[string]any{"id": caseID, "d": "after the cut"}, nil)
	for {
		ev := good.Read(10 * time.Second)
		if ev.Event != "next" {
			t.Fatalf("the reading subscriber: %s %s", ev.Event, ev.Data)
		}
		if strings.Contains(string(ev.Data), "after the cut") {
			break
		}
	}
}

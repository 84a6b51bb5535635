package graph_test

import (
	"net/http"
	"testing"

	"resolutioncenter/graph/gqlhttp"
)

// TestIsWebSocketUpgrade: an upgrade is told as the WebSocket library accepts it (a
// token of a list, any case); a socket missed here was timed and counted as an
// ordinary request.
func TestIsWebSocketUpgrade(t *testing.T) {
	for _, c := range []struct {
		values []string
		want   bool
	}{
		{[]string{"websocket"}, true}, {[]string{"WebSocket"}, true}, {[]string{"websocket, x"}, true},
		{[]string{"h2c, websocket"}, true}, {[]string{"h2c", "websocket"}, true},
		{nil, false}, {[]string{"h2c"}, false}, {[]string{"websockets"}, false}, {[]string{"x-websocket"}, false},
	} {
		r, _ := http.NewRequest(http.MethodGet, "/graphql", nil)
		for _, v := range c.values {
			r.Header.Add("Upgrade", v)
		}
		if got := gqlhttp.IsWebSocketUpgrade(r); got != c.want {
			t.Errorf("Upgrade %q: %v, want %v", c.values, got, c.want)
		}
	}
}

package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"resolutioncenter/app/apptest"
)

// TestLargeDocumentsDoNotFillCaches: the server keeps documents it has seen (parsed
// documents, shape checks, plans, automatic persisted queries) in caches of 1,000
// entries, keyed by the document's text. A document may be as large as the request
// body (1 MiB), mostly whitespace, and any caller can send one, without a token, and
// register any text as an APQ: counted by entries only, the caches held up to a GB each
// for as long as nothing else evicted them. What they keep is bounded in bytes.
func TestLargeDocumentsDoNotFillCaches(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	const n = 120
	pad := strings.Repeat(" ", 200<<10)
	send := func(i int, apq bool) {
		t.Helper()
		var req apptest.Request
		if apq {
			// Not even a document: APQ registers what the hash names, before parsing.
			q := fmt.Sprintf("# registered %d\n%s", i, pad)
			h := sha256.Sum256([]byte(q))
			req = apptest.Request{Query: q, Extensions: map[string]any{
				"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(h[:])}}}
		} else {
			// A valid document any caller may run: parsed, checked, planned, cached.
			req = apptest.Request{Query: fmt.Sprintf("{ a%d: __typename %s}", i, pad)}
		}
		r, err := apptest.Send(context.Background(), s.URL, req)
		if err != nil || r.Status != 200 {
			t.Fatalf("request %d (apq %v): %v %d %s", i, apq, err, r.Status, apptest.Trunc(r.Raw, 300))
		}
	}
	send(0, false) // warm up what is allocated once
	send(0, true)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 1; i <= n; i++ {
		send(i, false)
		send(i, true)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d documents and %d APQ registrations of 200 KiB: %.1f MB retained", n, n, float64(retained)/1e6)
	// 49 MB of documents were sent; the caches may keep 8 MiB each of them.
	if retained > 24<<20 {
		t.Errorf("%.1f MB retained after %d large documents, want < 24 MiB: the caches keep them", float64(retained)/1e6, 2*n)
	}
}

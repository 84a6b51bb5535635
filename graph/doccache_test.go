package graph

import (
	"context"
	"strings"
	"testing"
)

func TestDocCacheBoundedByBytes(t *testing.T) {
	ctx := context.Background()
	c := newDocCache[string](1000, 1000)
	doc := func(i int) string { return strings.Repeat(" ", 9) + string(rune('a'+i%26)) + strings.Repeat("x", i/26) }
	for i := range 200 {
		c.Add(ctx, doc(i), "")
		if c.Bytes() > 1000 {
			t.Fatalf("after %d adds the cache holds %d bytes, want <= 1000", i+1, c.Bytes())
		}
	}
	if _, ok := c.Get(ctx, doc(199)); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := c.Get(ctx, doc(0)); ok {
		t.Error("the oldest entry is still there")
	}
	// String values count too; an entry over a thirty-second of the bytes is not kept.
	c = newDocCache[string](1000, 3200)
	c.Add(ctx, "k", strings.Repeat("v", 100))
	if _, ok := c.Get(ctx, "k"); ok || c.Bytes() != 0 {
		t.Errorf("an entry of 101 bytes in a cache of 3,200 was kept (%d bytes)", c.Bytes())
	}
	c.Add(ctx, "k", strings.Repeat("v", 50))
	c.Add(ctx, "k", strings.Repeat("v", 60)) // replaced, not counted twice
	if got := c.Bytes(); got != 61 {
		t.Errorf("holds %d bytes, want 61", got)
	}
	// Evictions by entries give their bytes back.
	c = newDocCache[string](2, 1<<20)
	for _, k := range []string{"aaaa", "bbbb", "cccc"} {
		c.Add(ctx, k, "")
	}
	if got := c.Bytes(); got != 8 {
		t.Errorf("holds %d bytes after an eviction by count, want 8", got)
	}
}

package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2/simplelru"
)

// docCacheBytes is what one cache keyed by a document's text (parsed documents, shape
// checks, plans, automatic persisted queries) may hold in keys and string values. A
// document may be as large as a request body, mostly whitespace, and any caller can
// send one (without a token; as an APQ, without even parsing): bounded by entries
// alone, 1,000 such documents held a gigabyte per cache. 8 MiB keeps 1,000 documents
// of 8 KiB, more than a frontend's operations (an introspection query is 2 KiB).
const docCacheBytes = 8 << 20

// docCache is a least-recently-used graphql.Cache bounded by entries and by bytes: the
// length of its keys (and of its values, when they are strings). An entry larger than
// a thirty-second of the bytes (256 KiB of 8 MiB) is not kept: it would evict many ordinary ones, and costs
// only its own parsing again when it comes back.
type docCache[T any] struct {
	mu       sync.Mutex
	lru      *lru.LRU[string, T]
	bytes    int64
	maxBytes int64
}

var _ graphql.Cache[any] = (*docCache[any])(nil)

func newDocCache[T any](entries int, maxBytes int64) *docCache[T] {
	c := &docCache[T]{maxBytes: maxBytes}
	l, err := lru.NewLRU(entries, func(k string, v T) { c.bytes -= entrySize(k, v) })
	if err != nil {
		panic("docCache: " + err.Error()) // only for entries <= 0
	}
	c.lru = l
	return c
}

func entrySize[T any](key string, v T) int64 {
	n := int64(len(key))
	if s, ok := any(v).(string); ok {
		n += int64(len(s))
	}
	return n
}

func (c *docCache[T]) Get(_ context.Context, key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

func (c *docCache[T]) Add(_ context.Context, key string, v T) {
	size := entrySize(key, v)
	if size > c.maxBytes/32 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key) // its bytes are counted again below
	c.lru.Add(key, v)
	c.bytes += size
	for c.bytes > c.maxBytes {
		c.lru.RemoveOldest()
	}
}

// Bytes is what the cache holds, as it counts it.
func (c *docCache[T]) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

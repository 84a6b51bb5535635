package seed

import (
	"crypto/rand"
	"io"
	"time"

	"github.com/oklog/ulid/v2"
)

// idAt returns an ID with the given prefix (one of package ids) whose ULID time part
// is t, so that ordering IDs agrees with ordering by creation time, as IDs made by
// ids.New at creation do. entropy fills the random part: crypto/rand for the demo, a
// seeded generator for bulk data.
func idAt(prefix string, t time.Time, entropy io.Reader) string {
	u := ulid.MustNew(ulid.Timestamp(t), entropy)
	var buf [8 + ulid.EncodedSize]byte
	b := append(buf[:0], prefix...)
	n := len(b)
	b = b[:n+ulid.EncodedSize]
	_ = u.MarshalTextTo(b[n:]) // cannot fail: the buffer has the encoded size
	for i := n; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// cryptoEntropy is the entropy of IDs that need not be reproducible.
var cryptoEntropy io.Reader = rand.Reader

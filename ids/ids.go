// Package ids makes and checks the opaque, type-prefixed, time-ordered identifiers of
// the resolution center: a prefix naming the type ("reso_") and a ULID, whose first
// 48 bits are the creation time in milliseconds, so IDs sort by creation time.
//
// ids imports nothing of this module.
package ids

import (
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// The type prefixes.
const (
	Resolution = "reso_"
	Company    = "biz_"
	User       = "user_"
	Payment    = "pay_"
	Membership = "mem_"
	Event      = "revt_"
	Token      = "tok_"
	// Webhooks: an endpoint, a delivery (its ID is the webhook-id header) and one
	// attempt to deliver it.
	WebhookEndpoint = "whep_"
	WebhookDelivery = "msg_"
	WebhookAttempt  = "watt_"
)

var prefixes = []string{Resolution, Company, User, Payment, Membership, Event, Token, WebhookEndpoint, WebhookDelivery, WebhookAttempt}

// New returns a fresh ID with the given prefix.
func New(prefix string) string {
	return prefix + strings.ToLower(ulid.Make().String())
}

// NewAt returns a fresh ID with the given prefix that carries t as its creation time
// (for a record that stands for something that happened at t).
func NewAt(prefix string, t time.Time) string {
	return prefix + strings.ToLower(ulid.MustNew(ulid.Timestamp(t), ulid.DefaultEntropy()).String())
}

// Floor returns the lowest ID of the type that can be made at t: every ID made
// before t (to the millisecond) sorts below it, every ID made at t or later does not,
// so "id < Floor(prefix, t)" selects by creation time on the ID's own index.
func Floor(prefix string, t time.Time) string {
	var u ulid.ULID
	if err := u.SetTime(ulid.Timestamp(t)); err != nil {
		return prefix // before 1970: nothing sorts below it
	}
	return prefix + strings.ToLower(u.String())
}

// Prefix returns the type prefix of id if id is well formed (a known prefix followed by
// a ULID), and "" otherwise.
func Prefix(id string) string {
	for _, p := range prefixes {
		if strings.HasPrefix(id, p) {
			rest := id[len(p):]
			if len(rest) != ulid.EncodedSize {
				return ""
			}
			if _, err := ulid.ParseStrict(strings.ToUpper(rest)); err != nil {
				return ""
			}
			return p
		}
	}
	return ""
}

// Is reports whether id is well formed and has the given prefix.
func Is(id, prefix string) bool { return Prefix(id) == prefix }

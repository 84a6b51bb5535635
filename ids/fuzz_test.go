package ids_test

// Fuzz target for ID parsing: Prefix agrees with an independent reading of the format
// (a known prefix, then 26 Crockford base-32 characters whose first is at most 7) and
// never panics; Is agrees with Prefix.
//
//	go test -run '^$' -fuzz '^FuzzPrefix$' -fuzztime 5s ./ids

import (
	"strings"
	"testing"

	"resolutioncenter/ids"
)

var allPrefixes = []string{ids.Resolution, ids.Company, ids.User, ids.Payment, ids.Membership, ids.Event, ids.Token,
	ids.WebhookEndpoint, ids.WebhookDelivery, ids.WebhookAttempt}

// oraclePrefix is the specification of Prefix written out independently.
func oraclePrefix(s string) string {
	for _, p := range allPrefixes {
		rest, ok := strings.CutPrefix(s, p)
		if !ok {
			continue
		}
		if len(rest) != 26 || rest[0] < '0' || rest[0] > '7' {
			return ""
		}
		for i := 0; i < len(rest); i++ { // bytes: every valid character is ASCII
			if !strings.ContainsRune("0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyz", rune(rest[i])) {
				return ""
			}
		}
		return p
	}
	return ""
}

func FuzzPrefix(f *testing.F) {
	for _, p := range allPrefixes {
		f.Add(ids.New(p))
		f.Add(strings.ToUpper(ids.New(p)))
		f.Add(p)
	}
	for _, s := range []string{"", "reso_01jd0000000000000000000000", "reso_71jd0000000000000000000000", "reso_81jd0000000000000000000000",
		"reso_01JD00000000000000000000001", "reso_zzzzzzzzzzzzzzzzzzzzzzzzzz", "RESO_01jd0000000000000000000000",
		"reso_01jd000000000000000000000!", "reso_01jd00000000000000000000il", "reso_01jd00000000000000000000\u017f0",
		"reso_reso_01jd0000000000000000", "user_01jd0000000000000000000000", "tok_7zzzzzzzzzzzzzzzzzzzzzzzzz",
		"revt_01JD2K7Q1X4M8N9P0R3S5T6V7W", "pay_01jd2k7q1x4m8n9p0r3s5t6v7w\x00", "mem_\xff1jd2k7q1x4m8n9p0r3s5t6v7w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ids.Prefix(s)
		if want := oraclePrefix(s); got != want {
			t.Fatalf("Prefix(%q) = %q, want %q", s, got, want)
		}
		for _, p := range allPrefixes {
			if ids.Is(s, p) != (got == p) {
				t.Fatalf("Is(%q, %q) = %v but Prefix = %q", s, p, ids.Is(s, p), got)
			}
		}
		if got != "" {
			// The canonical (lower-case) spelling names the same ID type.
			if lower := got + strings.ToLower(s[len(got):]); ids.Prefix(lower) != got {
				t.Fatalf("Prefix(%q) = %q but its lower-case form %q is refused", s, got, lower)
			}
		}
	})
}

package graph

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// Cursors are opaque to clients: base64url of a versioned, typed text. A resolution
// cursor names its order field, so a cursor from one ordering cannot be used with
// another; an event cursor names its case.

const (
	cursorResolution = "r1"
	cursorEvent      = "e1"
)

var errBadCursor = dispute.Invalid("cursor", "malformed or foreign cursor: pass a cursor this field returned")

func encodeCursor(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, "|")))
}

func decodeCursor(s string, kind string, n int) ([]string, error) {
	if len(s) > 200 {
		return nil, errBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errBadCursor
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != n || parts[0] != kind {
		return nil, errBadCursor
	}
	return parts, nil
}

// resolutionCursor encodes c's position in an ordering by field.
func resolutionCursor(c dispute.Case, field db.OrderField) string {
	k := db.KeyOf(c, field)
	t := "-"
	if k.Time != nil {
		t = strconv.FormatInt(k.Time.UnixMilli(), 10)
	}
	return encodeCursor(cursorResolution, string(field), t, k.ID)
}

// decodeResolutionCursor returns the key of a cursor made for the ordering by field.
func decodeResolutionCursor(s string, field db.OrderField) (*db.Key, error) {
	p, err := decodeCursor(s, cursorResolution, 4)
	if err != nil {
		return nil, err
	}
	if p[1] != string(field) {
		return nil, dispute.Invalid("cursor", "the cursor belongs to a different orderBy field")
	}
	if !ids.Is(p[3], ids.Resolution) {
		return nil, errBadCursor
	}
	k := &db.Key{ID: p[3]}
	if p[2] != "-" {
		ms, err := strconv.ParseInt(p[2], 10, 64)
		if err != nil || ms < 0 || ms > 253402300799999 {
			return nil, errBadCursor
		}
		t := time.UnixMilli(ms).UTC()
		k.Time = &t
	} else if field == db.OrderCreatedAt {
		return nil, errBadCursor
	}
	return k, nil
}

// eventCursor encodes an event's position in its case's timeline.
func eventCursor(e dispute.Event) string {
	return encodeCursor(cursorEvent, e.ResolutionID, strconv.Itoa(e.Position))
}

// decodeEventCursor returns the timeline position of a cursor made for case caseID.
func decodeEventCursor(s, caseID string) (int, error) {
	p, err := decodeCursor(s, cursorEvent, 3)
	if err != nil {
		return 0, err
	}
	if p[1] != caseID {
		return 0, dispute.Invalid("cursor", "the cursor belongs to another case's timeline")
	}
	pos, err := strconv.Atoi(p[2])
	if err != nil || pos < 1 {
		return 0, errBadCursor
	}
	return pos, nil
}

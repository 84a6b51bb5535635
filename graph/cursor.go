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

// appendCursorText appends the base64url encoding of raw, the cursor's text.
func appendCursorText(dst, raw []byte) []byte {
	return base64.RawURLEncoding.AppendEncode(dst, raw)
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
	var buf [128]byte
	return string(appendResolutionCursor(buf[:0], c, field))
}

// appendResolutionCursor appends resolutionCursor(c, field) to dst.
func appendResolutionCursor(dst []byte, c dispute.Case, field db.OrderField) []byte {
	k := db.KeyOf(c, field)
	var raw [96]byte
	b := append(raw[:0], cursorResolution+"|"...)
	b = append(b, field...)
	b = append(b, '|')
	if k.Time != nil {
		b = strconv.AppendInt(b, k.Time.UnixMilli(), 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, '|')
	b = append(b, k.ID...)
	return appendCursorText(dst, b)
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
	var buf [128]byte
	return string(appendEventCursor(buf[:0], e))
}

// appendEventCursor appends eventCursor(e) to dst.
func appendEventCursor(dst []byte, e dispute.Event) []byte {
	var raw [96]byte
	b := append(raw[:0], cursorEvent+"|"...)
	b = append(b, e.ResolutionID...)
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(e.Position), 10)
	return appendCursorText(dst, b)
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
	return eventPosition(p[2])
}

// checkEventCursor checks the form of an event cursor, whatever case it names (which
// decodeEventCursor checks against the timeline it is used on).
func checkEventCursor(s string) error {
	p, err := decodeCursor(s, cursorEvent, 3)
	if err != nil {
		return err
	}
	_, err = eventPosition(p[2])
	return err
}

// eventPosition reads the position part of an event cursor. Positions are 32-bit in
// the database: a larger one was never issued (and would fail PostgreSQL's parameter
// conversion instead of reading as a bad cursor).
func eventPosition(s string) (int, error) {
	pos, err := strconv.ParseInt(s, 10, 32)
	if err != nil || pos < 1 {
		return 0, errBadCursor
	}
	return int(pos), nil
}

package graph_test

// Fuzz targets for the opaque cursors: decoding never panics, refuses with a typed
// INVALID_ARGUMENT, and what it accepts re-encodes to a cursor that decodes the same.
//
//	go test -run '^$' -fuzz '^FuzzResolutionCursor$' -fuzztime 5s ./graph
//	go test -run '^$' -fuzz '^FuzzEventCursor$' -fuzztime 5s ./graph

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/graph"
	"resolutioncenter/ids"
)

func cursorB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// wantInvalid fails unless err is a *dispute.Error with code INVALID_ARGUMENT on the
// cursor.
func wantInvalid(t *testing.T, err error, input string) {
	t.Helper()
	var de *dispute.Error
	if !errors.As(err, &de) || de.Code != dispute.CodeInvalidArgument {
		t.Fatalf("decoding %q: error %v (%T), want INVALID_ARGUMENT", input, err, err)
	}
	if de.Field != "cursor" {
		t.Fatalf("decoding %q: field %q, want cursor", input, de.Field)
	}
}

func FuzzResolutionCursor(f *testing.F) {
	id := "reso_01jd2k7q1x4m8n9p0r3s5t6v7w"
	created := time.Date(2026, 11, 27, 10, 0, 0, 123e6, time.UTC)
	due := created.Add(7 * 24 * time.Hour)
	for _, c := range []dispute.Case{{ID: id, CreatedAt: created}, {ID: id, CreatedAt: created, DueDate: &due}} {
		f.Add(graph.ResolutionCursor(c, db.OrderCreatedAt))
		f.Add(graph.ResolutionCursor(c, db.OrderDueDate))
	}
	for _, s := range []string{"", "r1", "cjE", "=", "!!!!", strings.Repeat("A", 201),
		cursorB64("r1|created_at|-|" + id), cursorB64("r1|due_date|-|" + id),
		cursorB64("r1|created_at|-1|" + id), cursorB64("r1|created_at|253402300800000|" + id),
		cursorB64("r1|created_at|1e3|" + id), cursorB64("r1|created_at|1|reso_x"),
		cursorB64("r1|created_at|1|" + id + "|x"), cursorB64("e1|" + id + "|3"),
		cursorB64("r2|created_at|1|" + id), cursorB64("r1|due_date|9223372036854775807|" + id),
		cursorB64("r1||1|" + id), cursorB64("r1|created_at|+1|" + id), cursorB64("r1|created_at|0|" + strings.ToUpper(id)),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, field := range []db.OrderField{db.OrderCreatedAt, db.OrderDueDate} {
			k, err := graph.DecodeResolutionCursor(s, field)
			if err != nil {
				wantInvalid(t, err, s)
				if k != nil {
					t.Fatalf("decoding %q: a key along with an error", s)
				}
				continue
			}
			if k == nil || !ids.Is(k.ID, ids.Resolution) {
				t.Fatalf("decoding %q for %s: key %+v, want a resolution ID", s, field, k)
			}
			if field == db.OrderCreatedAt && k.Time == nil {
				t.Fatalf("decoding %q: a created_at cursor without a time", s)
			}
			if k.Time != nil && (k.Time.Before(time.Unix(0, 0)) || k.Time.Year() > 9999 || k.Time.Location() != time.UTC) {
				t.Fatalf("decoding %q: implausible time %v", s, k.Time)
			}
			// Re-encode from the key and decode again: the same position.
			c := dispute.Case{ID: k.ID}
			if field == db.OrderCreatedAt {
				c.CreatedAt = *k.Time
			} else {
				c.DueDate = k.Time
			}
			again := graph.ResolutionCursor(c, field)
			k2, err := graph.DecodeResolutionCursor(again, field)
			if err != nil {
				t.Fatalf("re-encoded cursor %q (from %q) does not decode: %v", again, s, err)
			}
			if k2.ID != k.ID || (k2.Time == nil) != (k.Time == nil) || (k.Time != nil && !k2.Time.Equal(*k.Time)) {
				t.Fatalf("round trip of %q: %+v then %+v", s, k, k2)
			}
			// A cursor names its ordering: the other field refuses it, with a typed error.
			other := db.OrderDueDate
			if field == db.OrderDueDate {
				other = db.OrderCreatedAt
			}
			if _, err := graph.DecodeResolutionCursor(s, other); err == nil {
				t.Fatalf("cursor %q decodes for both %s and %s", s, field, other)
			} else {
				wantInvalid(t, err, s)
			}
		}
	})
}

func FuzzEventCursor(f *testing.F) {
	caseID := "reso_01jd2k7q1x4m8n9p0r3s5t6v7w"
	f.Add(graph.EventCursor(dispute.Event{ResolutionID: caseID, Position: 1}), caseID)
	f.Add(graph.EventCursor(dispute.Event{ResolutionID: caseID, Position: 2147483647}), caseID)
	f.Add(graph.EventCursor(dispute.Event{ResolutionID: caseID, Position: 7}), "reso_01jd2k7q1x4m8n9p0r3s5t6v7x")
	for _, s := range []string{"", "e1", cursorB64("e1|" + caseID + "|0"), cursorB64("e1|" + caseID + "|-3"),
		cursorB64("e1|" + caseID + "|99999999999999999999"), cursorB64("e1|" + caseID + "|1|2"), cursorB64("e1||1"),
		cursorB64("r1|created_at|1|" + caseID), cursorB64("e1|" + caseID + "| 1"), cursorB64("e1|" + caseID + "|+1"),
		strings.Repeat("ZTF8", 60)} {
		f.Add(s, caseID)
	}
	f.Add(cursorB64("e1||1"), "")
	f.Fuzz(func(t *testing.T, s, caseID string) {
		pos, err := graph.DecodeEventCursor(s, caseID)
		if err != nil {
			wantInvalid(t, err, s)
			if pos != 0 {
				t.Fatalf("decoding %q: position %d along with an error", s, pos)
			}
			return
		}
		if pos < 1 {
			t.Fatalf("decoding %q: position %d, want >= 1", s, pos)
		}
		again := graph.EventCursor(dispute.Event{ResolutionID: caseID, Position: pos})
		if p2, err := graph.DecodeEventCursor(again, caseID); err != nil || p2 != pos {
			t.Fatalf("round trip of %q: %d, then %d %v", s, pos, p2, err)
		}
		// A cursor names its case: any other case refuses it.
		if _, err := graph.DecodeEventCursor(s, caseID+"x"); err == nil {
			t.Fatalf("cursor %q decodes for case %q and %q", s, caseID, caseID+"x")
		} else {
			wantInvalid(t, err, s)
		}
	})
}

package ids

import (
	"sort"
	"testing"
	"time"
)

func TestNewIsWellFormedAndTyped(t *testing.T) {
	for _, p := range prefixes {
		id := New(p)
		if got := Prefix(id); got != p {
			t.Errorf("Prefix(%q) = %q, want %q", id, got, p)
		}
		if !Is(id, p) {
			t.Errorf("Is(%q, %q) = false", id, p)
		}
	}
}

func TestPrefixRejectsMalformed(t *testing.T) {
	for _, id := range []string{"", "reso_", "reso_123", "nope_01jd0000000000000000000000", "reso_01JD00000000000000000000001",
		"reso_zzzzzzzzzzzzzzzzzzzzzzzzzz", "RESO_01jd0000000000000000000000", "reso_01jd000000000000000000000!"} {
		if p := Prefix(id); p != "" {
			t.Errorf("Prefix(%q) = %q, want empty", id, p)
		}
	}
}

func TestIDsSortByCreationTime(t *testing.T) {
	var list []string
	for i := 0; i < 5; i++ {
		list = append(list, New(Resolution))
		time.Sleep(2 * time.Millisecond)
	}
	if !sort.StringsAreSorted(list) {
		t.Fatalf("ids not sorted by creation: %v", list)
	}
}

func TestFloorSplitsByCreationTime(t *testing.T) {
	before := New(WebhookDelivery)
	time.Sleep(2 * time.Millisecond)
	at := time.Now()
	time.Sleep(2 * time.Millisecond)
	after := New(WebhookDelivery)
	f := Floor(WebhookDelivery, at)
	if !(before < f && f < after) {
		t.Fatalf("Floor = %s, want between %s and %s", f, before, after)
	}
	if at := NewAt(WebhookDelivery, at); !(before < at && f <= at && at < after) || Prefix(at) != WebhookDelivery {
		t.Errorf("NewAt = %s, want a delivery ID between %s and %s", at, f, after)
	}
	if Prefix(f) != WebhookDelivery {
		t.Errorf("Floor %s is not a well-formed delivery ID", f)
	}
	if f := Floor(WebhookDelivery, time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)); f > before {
		t.Errorf("a floor before 1970 sorts above IDs: %s", f)
	}
}

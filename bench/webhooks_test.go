package main

import "testing"

func TestEnvelopeTimestamp(t *testing.T) {
	body := []byte(`{"id":"msg_1","type":"resolution_center_case.updated","timestamp":"2026-12-07T00:00:01.234Z","company_id":"biz_1","data":{"created_at":"x","timestamp":"inner"}}`)
	if got := envelopeTimestamp(body); got != "2026-12-07T00:00:01.234Z" {
		t.Errorf("envelopeTimestamp = %q", got)
	}
	if got := envelopeTimestamp([]byte(`{"timestamp" : "2026-12-07T00:00:01Z"}`)); got != "2026-12-07T00:00:01Z" {
		t.Errorf("spaced JSON: %q", got)
	}
}

package webhook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
)

// TestMaxPayloadChars: the longest body a delivery can carry (every text at its limit,
// the latest of 50 events with 10,000-character messages that fit maxPayloadDetails,
// every action list full, every attribute in previous_attributes) stays within MaxPayloadChars, the length the cost model prices
// WebhookDelivery.payload at.
func TestMaxPayloadChars(t *testing.T) {
	id := func(prefix string) string { return prefix + strings.Repeat("0", 26) }
	at := ts(time.Date(2026, 12, 31, 23, 59, 59, 999e6, time.UTC))
	long := func(n int) string { return strings.Repeat("x", n) }
	all := []string{"respond", "appeal", "withdraw", "accept", "deny", "request_more_info", "request_buyer_info",
		"request_merchant_info", "merchant_wins", "merchant_refund", "open", "record"}
	status, outcome := "customer_response_needed", "merchant_refund"
	money := Money{Amount: "-92233720368547758.07", Currency: "USD", MinorUnits: -9223372036854775807}
	name, email := long(200), long(254)
	c := &Case{ID: id("reso_"), Status: status, Issue: "significantly_not_as_described", CreatedAt: at, UpdatedAt: at, DueDate: &at,
		CustomerAppealed: true, MerchantAppealed: true, CustomerResponseActions: all, MerchantResponseActions: all,
		PlatformResponseActions: all, Outcome: &outcome, Refund: &outcome, Version: 1 << 31,
		Company: Company{ID: id("biz_"), Title: long(200), Route: long(100), CreatedAt: at},
		User:    User{ID: id("user_"), Name: &name, Username: long(100), Email: &email},
		Payment: Payment{ID: id("pay_"), Currency: "USD", Total: money, Subtotal: &money, RefundedAmount: money,
			Status: "partially_refunded", PaidAt: &at, RefundedAt: &at, CreatedAt: at},
		Member: &Member{ID: id("mem_"), Status: "canceled", CreatedAt: at, CanceledAt: &at}}
	for i := range recentEvents {
		details := long(dispute.MaxMessageLength)
		c.ResolutionEvents = append(c.ResolutionEvents, Event{ID: id("evt_"), Position: 1<<31 - i, Action: "request_merchant_info",
			ReporterType: "platform", Details: &details, FromStatus: status, ToStatus: status, ViewableByCustomer: true,
			ViewableByMerchant: true, CreatedAt: at})
	}
	c.ResolutionEvents = latestWithin(c.ResolutionEvents, maxPayloadDetails)
	if len(c.ResolutionEvents) != maxPayloadDetails/dispute.MaxMessageLength {
		t.Errorf("%d events of 10,000-character messages kept, want %d", len(c.ResolutionEvents), maxPayloadDetails/dispute.MaxMessageLength)
	}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	prev, err := json.Marshal(map[string]any{"status": status, "issue": c.Issue, "created_at": at, "updated_at": at,
		"due_date": at, "customer_appealed": true, "merchant_appealed": true, "customer_response_actions": all,
		"merchant_response_actions": all, "platform_response_actions": all, "outcome": outcome, "refund": outcome, "version": 1 << 31})
	if err != nil {
		t.Fatal(err)
	}
	body := Body(db.WebhookDelivery{ID: id("msg_"), EventType: EventDecided, CreatedAt: time.Now(), CompanyID: c.Company.ID,
		Data: string(data), Previous: string(prev)})
	n := utf8.RuneCount(body)
	t.Logf("longest payload: %d characters, MaxPayloadChars %d", n, MaxPayloadChars)
	if n > MaxPayloadChars {
		t.Errorf("a payload of %d characters, over MaxPayloadChars (%d)", n, MaxPayloadChars)
	}
}

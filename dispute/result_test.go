package dispute

import (
	"reflect"
	"testing"
	"time"
)

// storedBefore is a stored result exactly as the server wrote it before the encoding
// named its fields (encoding/json over Case and Event by Go field names). Results kept
// by an older build must still decode after an upgrade.
const storedBefore = `{"case":{"ID":"reso_01KBXYZ","Status":"customer_response_needed","Issue":"item_not_received","CompanyID":"biz_1","UserID":"user_1","PaymentID":"pay_1","MemberID":"mem_1","CreatedAt":"2026-12-01T09:00:00Z","UpdatedAt":"2026-12-01T10:00:00.123Z","DueDate":"2026-12-08T10:00:00.123Z","CustomerAppealed":false,"MerchantAppealed":false,"Outcome":"","Refund":"","DecidedBy":"","InfoRequests":1,"PaymentRefunded":false,"Version":2,"EventCount":2},"event":{"ID":"revt_2","ResolutionID":"reso_01KBXYZ","Position":2,"Action":"requested_more_info","Reporter":"merchant","Details":"Which address?","FromStatus":"merchant_response_needed","ToStatus":"customer_response_needed","ViewableByCustomer":true,"ViewableByMerchant":true,"CreatedAt":"2026-12-01T10:00:00.123Z"}}`

func resultFixture() (Case, Event) {
	due := time.Date(2026, 12, 8, 10, 0, 0, 123e6, time.UTC)
	c := Case{ID: "reso_01KBXYZ", Status: StatusCustomerResponseNeeded, Issue: IssueItemNotReceived,
		CompanyID: "biz_1", UserID: "user_1", PaymentID: "pay_1", MemberID: "mem_1",
		CreatedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 12, 1, 10, 0, 0, 123e6, time.UTC),
		DueDate: &due, InfoRequests: 1, Version: 2, EventCount: 2}
	e := Event{ID: "revt_2", ResolutionID: "reso_01KBXYZ", Position: 2, Action: EventRequestedMoreInfo,
		Reporter: ActorMerchant, Details: "Which address?", FromStatus: StatusMerchantResponseNeeded,
		ToStatus: StatusCustomerResponseNeeded, ViewableByCustomer: true, ViewableByMerchant: true,
		CreatedAt: time.Date(2026, 12, 1, 10, 0, 0, 123e6, time.UTC)}
	return c, e
}

func TestDecodeResultFromBefore(t *testing.T) {
	wantCase, wantEvent := resultFixture()
	c, e, err := DecodeResult([]byte(storedBefore))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, wantCase) {
		t.Errorf("case:\n got %+v\nwant %+v", c, wantCase)
	}
	if !reflect.DeepEqual(e, wantEvent) {
		t.Errorf("event:\n got %+v\nwant %+v", e, wantEvent)
	}
}

// TestEncodeResultIsStable pins the encoding itself: what this build stores is what
// earlier builds stored, byte for byte, so either can read the other's records.
func TestEncodeResultIsStable(t *testing.T) {
	b, err := EncodeResult(resultFixture())
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != storedBefore {
		t.Errorf("encoding changed:\n got %s\nwant %s", b, storedBefore)
	}
}

func TestDecodeResultRejectsGarbage(t *testing.T) {
	if _, _, err := DecodeResult([]byte(`{"case":`)); err == nil {
		t.Fatal("a truncated record decoded")
	}
}

func TestWaitingStatuses(t *testing.T) {
	for _, s := range Statuses {
		in := false
		for _, w := range WaitingStatuses {
			in = in || w == s
		}
		if in != s.Waiting() {
			t.Errorf("%s: in WaitingStatuses %v, Waiting() %v", s, in, s.Waiting())
		}
		if s.Waiting() && !s.Open() {
			t.Errorf("%s waits but is closed", s)
		}
	}
	if s := StatusUnderPlatformReview; s.Waiting() {
		t.Errorf("%s has no deadline", s)
	}
}

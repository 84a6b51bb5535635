package dispute_test

import (
	"errors"
	"fmt"
	"time"

	"resolutioncenter/dispute"
)

// A customer opens a case, the merchant asks for details, the customer answers,
// and the merchant accepts: the payment is refunded once and the case closes.
func Example() {
	p := dispute.DefaultPolicy()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	c, ev, _ := p.Open(dispute.Case{ID: "reso_1", Issue: dispute.IssueItemNotReceived}, "Nothing arrived.", at)
	fmt.Println(ev.Action, c.Status, c.DueDate.Format(time.DateOnly))
	fmt.Println("merchant may:", p.Allowed(c, dispute.ActorMerchant))

	c, ev, _, _ = p.Apply(c, dispute.ActorMerchant, dispute.ActionRequestMoreInfo,
		dispute.Input{Message: "Which address?"}, at.Add(time.Hour))
	fmt.Println(ev.Action, ev.Reporter, c.Status)

	c, _, _, _ = p.Apply(c, dispute.ActorCustomer, dispute.ActionRespond,
		dispute.Input{Message: "Main Street 1."}, at.Add(2*time.Hour))
	c, ev, eff, _ := p.Apply(c, dispute.ActorMerchant, dispute.ActionAccept, dispute.Input{}, at.Add(3*time.Hour))
	fmt.Println(ev.Action, c.Status, c.Outcome, c.Refund, eff.RefundPayment)

	_, _, _, err := p.Apply(c, dispute.ActorMerchant, dispute.ActionAppeal, dispute.Input{Message: "?"}, at)
	fmt.Println(errors.Is(err, dispute.ErrActionNotAllowed), dispute.CodeOf(err))
	// Output:
	// created merchant_response_needed 2026-03-08
	// merchant may: [accept deny request_more_info respond]
	// requested_more_info merchant customer_response_needed
	// accepted customer_won customer_won merchant true
	// true ACTION_NOT_ALLOWED
}

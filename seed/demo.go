package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

const day = 24 * time.Hour

// The demo's companies, users, memberships and cases are written out by hand below:
// a coffee subscription, a gym, an audio shop and a stationery shop, nine customers
// and three team members. Maya Chen (the customer token) has five cases, four of
// them with Lumen Audio (the merchant token); demoFeatured is the one all three
// tokens can open.

type demoCompany struct {
	key, title, route string
	age               time.Duration // created this long before now
}

var demoCompanies = []demoCompany{
	{"brightside", "Brightside Coffee Roasters", "brightside-coffee", 3*365*day + 40*day},
	{"harbor", "Harbor Fitness Club", "harbor-fitness", 5*365*day + 100*day},
	{"lumen", "Lumen Audio", "lumen-audio", 2*365*day + 210*day},
	{"fieldnote", "Fieldnote Stationery", "fieldnote-stationery", 4*365*day + 12*day},
}

type demoUser struct {
	username, name, email string
	age                   time.Duration
	team                  string // company key when the user is a team member there
}

var demoUsers = []demoUser{
	{"maya.chen", "Maya Chen", "maya.chen@example.com", 420 * day, ""},
	{"liam.oconnor", "Liam O'Connor", "liam.oconnor@example.net", 380 * day, ""},
	{"sofia.rossi", "Sofia Rossi", "sofia.rossi@example.org", 300 * day, ""},
	{"kenji.watanabe", "Kenji Watanabe", "kenji.watanabe@example.com", 610 * day, ""},
	{"amara.nwosu", "Amara Nwosu", "amara.nwosu@example.net", 255 * day, ""},
	{"lucas.meyer", "Lucas Meyer", "lucas.meyer@example.org", 505 * day, ""},
	{"hannah.schmidt", "Hannah Schmidt", "hannah.schmidt@example.com", 340 * day, ""},
	{"diego.alvarez", "Diego Alvarez", "diego.alvarez@example.net", 290 * day, ""},
	{"quietfox42", "", "quietfox42@example.org", 230 * day, ""},
	{"daniel.okafor", "Daniel Okafor", "daniel@lumen-audio.example", 700 * day, "lumen"},
	{"priya.raman", "Priya Raman", "priya@brightside-coffee.example", 900 * day, "brightside"},
	{"yuki.sato", "Yuki Sato", "yuki@fieldnote-stationery.example", 800 * day, "fieldnote"},
}

// demoMembership is a subscription, charged every 30 days from its start until now
// or until it is canceled.
type demoMembership struct {
	customer, company string
	currency          string
	price             int64
	age               time.Duration // started this long before now
	canceledAgo       time.Duration // canceled this long before now; 0: not by itself
}

var demoMemberships = []demoMembership{
	{"maya.chen", "lumen", "EUR", 999, 100 * day, 0},
	{"maya.chen", "brightside", "USD", 3450, 65 * day, 0},
	{"liam.oconnor", "harbor", "GBP", 4500, 95 * day, 0},
	{"sofia.rossi", "brightside", "USD", 2400, 70 * day, 0},
	{"hannah.schmidt", "harbor", "GBP", 4500, 40 * day, 0},
	{"hannah.schmidt", "brightside", "USD", 2800, 45 * day, 0},
	{"amara.nwosu", "harbor", "GBP", 3900, 100 * day, 0},
	{"lucas.meyer", "harbor", "GBP", 4500, 150 * day, 80 * day},
}

// DemoExternalID is the identity-provider subject of the demo user with this username:
// "demo|maya.chen". The example frontend's local issuer (examples/web/devissuer) signs
// tokens for these subjects, so the demo users can sign in with a JWT.
func DemoExternalID(username string) string { return "demo|" + username }

// step is one action in a demo case's script. after is the pause since the previous
// event; while the case waits for an answer it is scaled to the policy's response
// window (the scripts are written for the default 7 days). A system step fires when
// the deadline passes, as the sweeper would.
type step struct {
	after     time.Duration
	actor     dispute.Actor
	action    dispute.Action
	record    dispute.EventAction // set: a chargeback event reported by the processor
	msg       string
	terminate bool
}

func customer(after time.Duration, a dispute.Action, msg string) step {
	return step{after: after, actor: dispute.ActorCustomer, action: a, msg: msg}
}

func merchant(after time.Duration, a dispute.Action, msg string) step {
	return step{after: after, actor: dispute.ActorMerchant, action: a, msg: msg}
}

func platform(after time.Duration, a dispute.Action, msg string) step {
	return step{after: after, actor: dispute.ActorPlatform, action: a, msg: msg}
}

func deadline() step { return step{actor: dispute.ActorSystem} }

func chargeback(after time.Duration, ev dispute.EventAction, msg string) step {
	return step{after: after, actor: dispute.ActorPlatform, record: ev, msg: msg}
}

type demoCase struct {
	customer, company string
	member            bool // the payment is a charge of the customer's membership
	currency          string
	total, subtotal   int64 // subtotal 0: not given
	paidBefore        time.Duration
	issue             dispute.Issue
	opening           string
	steps             []step
	endedAgo          time.Duration // the last event happened this long before now
}

// demoFeatured indexes demoCases: the case whose ID Demo returns.
const demoFeatured = 0

var demoCases = []demoCase{
	{ // under_platform_review; the platform's request and the merchant's answer are hidden from Maya
		customer: "maya.chen", company: "lumen", currency: "EUR", total: 24900, subtotal: 20924, paidBefore: 9 * day,
		issue:   dispute.IssueSignificantlyNotAsDescribed,
		opening: "The Aurora ANC headphones I received have a constant hiss in the left ear cup whenever noise cancelling is on. The listing says \"studio-quiet\". I'd like a refund, and I'm happy to send them back.",
		steps: []step{
			merchant(22*time.Hour, dispute.ActionRespond, "Sorry to hear that! Could you try a reset (hold both buttons for 10 seconds) and update to firmware 1.4 in the Lumen app? Most units that hiss on 1.2 are fixed by 1.4."),
			customer(26*time.Hour, dispute.ActionRespond, "I updated to 1.4 and did the reset twice. The hiss is still there, you can hear it in a quiet room with no music playing."),
			platform(2*day, dispute.ActionRequestMerchantInfo, "Please confirm the production batch for serial LA-AUR-88213 and whether that batch is affected by the ANC hiss reported on your support forum."),
			merchant(20*time.Hour, dispute.ActionRespond, "The serial is from batch 2311-B. About 3% of that batch has a faulty ANC board. We can exchange the unit; a refund is also possible if the customer returns it."),
			customer(5*time.Hour, dispute.ActionRespond, "To be clear: I'd prefer a refund to an exchange. A replacement could come from the same batch."),
		},
		endedAgo: 19 * time.Hour,
	},
	{ // customer_won: the merchant accepts and closes the plan, canceling the membership
		customer: "maya.chen", company: "lumen", member: true, currency: "EUR", total: 999, subtotal: 840, paidBefore: 2 * day,
		issue:   dispute.IssueForgotToCancel,
		opening: "I cancelled Lumen Care+ in the app on the 2nd, but I was charged again on the 5th. Please refund this month and make sure the plan is closed.",
		steps: []step{
			{after: 20 * time.Hour, actor: dispute.ActorMerchant, action: dispute.ActionAccept, terminate: true,
				msg: "You're right, the cancellation didn't reach our billing system. We've refunded the charge and closed the plan. Sorry for the trouble!"},
		},
		endedAgo: 18 * day,
	},
	{ // merchant_won, appealed by the customer; the merchant lets the platform's deadline pass and the platform refunds
		customer: "maya.chen", company: "lumen", currency: "USD", total: 8900, subtotal: 8900, paidBefore: 14 * day,
		issue:   dispute.IssueItemNotReceived,
		opening: "My Pulse mini speaker never arrived. The parcel locker company says nothing is waiting for me, and I never got a pickup code.",
		steps: []step{
			merchant(day, dispute.ActionDeny, "Our carrier scanned the parcel into the locker at Bahnhofstraße 12 on the 8th. We consider this order delivered."),
			customer(2*day, dispute.ActionAppeal, "The locker operator confirmed in writing that no parcel was assigned to my name or phone number. I've forwarded their email to support. Please review."),
			platform(day, dispute.ActionRequestMerchantInfo, "Please provide the carrier's proof of delivery for this order: the locker ID, the pickup code issued and the scan record."),
			deadline(),
			platform(4*time.Hour, dispute.ActionMerchantRefund, "The merchant did not provide proof of delivery within the deadline. The payment is refunded in full."),
		},
		endedAgo: 9 * day,
	},
	{ // customer_response_needed: the merchant asked Maya a question
		customer: "maya.chen", company: "lumen", currency: "EUR", total: 5900, subtotal: 4958, paidBefore: 6 * day,
		issue:   dispute.IssueProductUnacceptable,
		opening: "The USB-C dock gets very hot within minutes and my laptop disconnects from it every few minutes. It isn't usable like this.",
		steps: []step{
			merchant(day, dispute.ActionRequestMoreInfo, "Which laptop model and which power adapter are you using? The dock needs a 65 W adapter to charge a laptop and run two screens."),
		},
		endedAgo: 20 * time.Hour,
	},
	{ // customer_withdrew: the box turned up
		customer: "maya.chen", company: "brightside", member: true, currency: "USD", total: 3450, paidBefore: 10 * day,
		issue:   dispute.IssueItemNotReceived,
		opening: "My March coffee box hasn't arrived and the tracking hasn't updated in five days.",
		steps: []step{
			merchant(6*time.Hour, dispute.ActionRespond, "So sorry! USPS had a backlog at the regional hub this week. It should arrive within two days; if it doesn't, we'll reship it for free."),
			customer(30*time.Hour, dispute.ActionWithdraw, "It arrived this morning. Thanks for the quick answer!"),
		},
		endedAgo: 25 * day,
	},
	{ // merchant_response_needed, with an extra note from the customer
		customer: "liam.oconnor", company: "harbor", member: true, currency: "GBP", total: 4500, paidBefore: 3 * day,
		issue:   dispute.IssueForgotToCancel,
		opening: "I moved to Leeds and cancelled my membership at the front desk on 28 February, but I was still charged £45 this month.",
		steps: []step{
			customer(5*time.Hour, dispute.ActionRespond, "Adding: the cancellation was handled by Jess at the Canal Street desk and I still have the paper slip."),
		},
		endedAgo: 2 * day,
	},
	{ // merchant_response_needed, with a chargeback opened at the bank
		customer: "sofia.rossi", company: "lumen", currency: "EUR", total: 12900, subtotal: 10840, paidBefore: 4 * day,
		issue:   dispute.IssueUnauthorizedTransaction,
		opening: "I don't recognise this charge. I have never ordered from Lumen Audio and my card has been with me the whole time.",
		steps: []step{
			chargeback(2*day, dispute.EventDisputeOpened, "The cardholder's bank opened a chargeback (reason: fraud, card not present)."),
		},
		endedAgo: 22 * time.Hour,
	},
	{ // merchant_info_needed: the platform asks the merchant for proof
		customer: "amara.nwosu", company: "harbor", currency: "GBP", total: 32000, subtotal: 26667, paidBefore: 40 * day,
		issue:   dispute.IssueSignificantlyNotAsDescribed,
		opening: "I paid for a 10-session personal training pack. My trainer left after two sessions and no replacement was offered.",
		steps: []step{
			merchant(day, dispute.ActionRespond, "We offered sessions with another trainer, Mark, by email on the 14th. The remaining eight sessions are still available."),
			customer(day, dispute.ActionRespond, "I never received that email. I asked at the desk twice and was told to wait for a call that never came."),
			platform(2*day, dispute.ActionRequestMerchantInfo, "Please share the email offering a replacement trainer, including the address it was sent to and the date."),
		},
		endedAgo: day,
	},
	{ // customer_info_needed: the platform asks the buyer, out of the merchant's sight
		customer: "kenji.watanabe", company: "fieldnote", currency: "JPY", total: 12800, subtotal: 11637, paidBefore: 12 * day,
		issue:   dispute.IssueItemNotReceived,
		opening: "The fountain pen set was marked as delivered, but there was nothing in my mailbox.",
		steps: []step{
			merchant(day, dispute.ActionRespond, "Japan Post confirmed delivery to the mailbox at 14:12 on Tuesday. Could you check with your neighbours or the building manager?"),
			customer(day, dispute.ActionRespond, "I asked the building manager and my neighbours. Nobody received it."),
			merchant(day, dispute.ActionRespond, "We have asked Japan Post to investigate. That usually takes five business days."),
			platform(2*day, dispute.ActionRequestBuyerInfo, "Please confirm that the delivery address in your account includes the building name and room number, and upload a photo of your mailbox label."),
		},
		endedAgo: 2 * day,
	},
	{ // customer_won: the merchant accepts at once
		customer: "lucas.meyer", company: "lumen", currency: "EUR", total: 3990, subtotal: 3353, paidBefore: 8 * day,
		issue:   dispute.IssueProductUnacceptable,
		opening: "The replacement ear cushions don't fit my Aurora headphones, although the listing says they are compatible.",
		steps: []step{
			merchant(day, dispute.ActionAccept, "Sorry, the listing was wrong for the 2023 Aurora. We've refunded you; no need to send the cushions back."),
		},
		endedAgo: 30 * day,
	},
	{ // merchant_won: the merchant denies after a short exchange
		customer: "hannah.schmidt", company: "brightside", currency: "USD", total: 2800, paidBefore: 9 * day,
		issue:   dispute.IssueSignificantlyNotAsDescribed,
		opening: "The \"single-origin Ethiopia\" beans taste like a dark blend. This isn't the coffee that was described.",
		steps: []step{
			merchant(day, dispute.ActionRespond, "Our Yirgacheffe lot changed this month, but the roast profile is the same light roast. What roast date is printed on your bag?"),
			customer(day, dispute.ActionRespond, "The roast date is 3 March. It still tastes very different from last month's bag."),
			merchant(day, dispute.ActionDeny, "The bag was roasted and shipped as described; flavour differences between harvest lots aren't a defect. We're happy to send a different coffee at 50% off."),
		},
		endedAgo: 15 * day,
	},
	{ // merchant_won by the system: the customer let the merchant's question go unanswered
		customer: "diego.alvarez", company: "lumen", currency: "USD", total: 19900, subtotal: 18250, paidBefore: 15 * day,
		issue:   dispute.IssueItemNotReceived,
		opening: "Order LA-55120 hasn't arrived and tracking shows no movement for a week.",
		steps: []step{
			merchant(day, dispute.ActionRequestMoreInfo, "The parcel came back to us marked \"address unknown\". Could you confirm your full address, including the apartment number, so we can reship?"),
			deadline(),
		},
		endedAgo: 12 * day,
	},
	{ // merchant_won on the merchant's appeal; the earlier refund stays with the customer (refund=platform)
		customer: "quietfox42", company: "harbor", currency: "GBP", total: 1200, paidBefore: 2 * day,
		issue:   dispute.IssueUnauthorizedTransaction,
		opening: "Two charges of £12 appeared on the same day. I only bought one day pass.",
		steps: []step{
			merchant(day, dispute.ActionRespond, "We only see one day pass on your account. The second charge may be a pending authorisation that will drop off."),
			customer(day, dispute.ActionRespond, "Both charges are settled now, not pending. My bank statement lists them as two separate transactions."),
			deadline(),
			platform(day, dispute.ActionMerchantRefund, "Two settled charges for one day pass and no answer from the merchant: this charge is refunded."),
			merchant(2*day, dispute.ActionAppeal, "The second charge was a separate day pass bought at the front desk with the same card. We have the till receipt and the guest entry log."),
			platform(day, dispute.ActionRequestBuyerInfo, "Did you buy a second day pass at the front desk that day, for yourself or for a guest?"),
			customer(20*time.Hour, dispute.ActionRespond, "Yes, I bought one for my sister at the desk. I didn't realise it was the second charge. Sorry for the confusion."),
			platform(day, dispute.ActionMerchantWins, "The customer confirmed the second purchase, so the merchant wins on appeal. The refund already made stays with the customer and is covered by the platform."),
		},
		endedAgo: 6 * day,
	},
	{ // customer_withdrew after sending a photo
		customer: "amara.nwosu", company: "fieldnote", currency: "JPY", total: 3200, paidBefore: 6 * day,
		issue:   dispute.IssueProductUnacceptable,
		opening: "The A5 notebook arrived with a torn cover and several pages stuck together.",
		steps: []step{
			merchant(20*time.Hour, dispute.ActionRequestMoreInfo, "We're sorry! Could you send a photo of the cover and the stuck pages so we can report it to the bindery?"),
			customer(day, dispute.ActionRespond, "Photos are attached: the cover is torn at the spine and pages 40 to 52 are glued together."),
			customer(2*day, dispute.ActionWithdraw, "Fieldnote sent a replacement by post and it arrived in perfect condition. All good now."),
		},
		endedAgo: 20 * day,
	},
	{ // customer_won by the platform after the merchant stayed silent; the merchant may still appeal
		customer: "hannah.schmidt", company: "lumen", currency: "EUR", total: 7900, subtotal: 6639, paidBefore: 16 * day,
		issue:   dispute.IssueItemNotReceived,
		opening: "I ordered the Lumen turntable belt kit three weeks ago. Tracking stopped at \"in transit\" after the first day.",
		steps: []step{
			deadline(),
			platform(5*time.Hour, dispute.ActionMerchantRefund, "The merchant did not respond within seven days and there is no proof of delivery. The payment is refunded in full."),
		},
		endedAgo: 3 * day,
	},
	{ // under_platform_review on the customer's appeal
		customer: "kenji.watanabe", company: "fieldnote", currency: "JPY", total: 5400, paidBefore: 11 * day,
		issue:   dispute.IssueSignificantlyNotAsDescribed,
		opening: "The listing says the ink is blue-black, but it is clearly purple on paper.",
		steps: []step{
			merchant(day, dispute.ActionDeny, "The ink matches our product photos in daylight. Colours vary between screens, which we mention on the product page."),
			customer(day, dispute.ActionAppeal, "I've uploaded a photo of the ink next to a blue-black reference from another brand. It is purple, not a screen issue."),
			merchant(day, dispute.ActionRespond, "We tested a bottle from the same batch against the manufacturer's reference card and it is within specification."),
		},
		endedAgo: 2 * day,
	},
	{ // merchant_won by the platform, with a chargeback the bank later decided for the merchant
		customer: "diego.alvarez", company: "lumen", currency: "EUR", total: 34900, subtotal: 29328, paidBefore: 20 * day,
		issue:   dispute.IssueUnauthorizedTransaction,
		opening: "I didn't make this purchase. Please refund it.",
		steps: []step{
			chargeback(day, dispute.EventDisputeOpened, "The issuing bank opened a chargeback (reason: fraud, card not present)."),
			merchant(day, dispute.ActionRespond, "The order was placed from the customer's own account on a device used for earlier orders, and delivered to the registered address with a signature from \"D. Alvarez\"."),
			customer(2*day, dispute.ActionRespond, "My son used my account without asking. I'm dealing with that at home, but I still didn't authorise the purchase."),
			platform(day, dispute.ActionMerchantWins, "The purchase was made from the customer's own account by a household member and delivered to the customer's address, so it is not an unauthorised transaction."),
			chargeback(9*day, dispute.EventDisputeMerchantWon, "The bank decided the chargeback in the merchant's favour."),
		},
		endedAgo: 4 * day,
	},
	{ // customer_won: subscription refunded and canceled
		customer: "sofia.rossi", company: "brightside", member: true, currency: "USD", total: 2400, paidBefore: 3 * day,
		issue:   dispute.IssueForgotToCancel,
		opening: "I meant to pause my subscription for the summer, not keep it running. Please refund this month's box, I haven't opened it.",
		steps: []step{
			merchant(9*time.Hour, dispute.ActionAccept, "No problem, refunded. We've also cancelled the subscription; you can restart it any time from your account."),
		},
		endedAgo: 33 * day,
	},
	{ // customer_response_needed: shipping update from the merchant
		customer: "lucas.meyer", company: "lumen", currency: "EUR", total: 2490, subtotal: 2092, paidBefore: 9 * day,
		issue:   dispute.IssueItemNotReceived,
		opening: "It has been nine days and my replacement cable hasn't shipped yet.",
		steps: []step{
			merchant(7*time.Hour, dispute.ActionRespond, "Your order shipped yesterday with DHL, tracking JD014600006543. It should arrive on Thursday."),
		},
		endedAgo: 10 * time.Hour,
	},
	{ // merchant_response_needed, opened a few hours ago
		customer: "hannah.schmidt", company: "harbor", member: true, currency: "GBP", total: 4500, paidBefore: 1 * day,
		issue:    dispute.IssueForgotToCancel,
		opening:  "I thought my trial would end automatically, but I was charged for a full month. Please cancel the membership and refund this charge.",
		endedAgo: 3 * time.Hour,
	},
	{ // customer_withdrew early
		customer: "liam.oconnor", company: "lumen", currency: "EUR", total: 1500, paidBefore: 5 * day,
		issue:   dispute.IssueProductUnacceptable,
		opening: "The headphone stand wobbles and scratched my desk.",
		steps: []step{
			customer(3*time.Hour, dispute.ActionWithdraw, "My mistake, one of the rubber feet had fallen off in the box. It's fine now."),
		},
		endedAgo: 40 * day,
	},
}

// One-off purchases without a case, so that customers have payments to open cases on.
var demoPurchases = []struct {
	customer, company, currency string
	total                       int64
	age                         time.Duration
}{
	{"maya.chen", "lumen", "EUR", 4900, 60 * day},
	{"kenji.watanabe", "fieldnote", "JPY", 2200, 45 * day},
	{"diego.alvarez", "brightside", "USD", 1850, 12 * day},
	{"sofia.rossi", "fieldnote", "JPY", 8800, 27 * day},
	{"lucas.meyer", "brightside", "USD", 4200, 5 * day},
}

// Demo seeds the demo data set into an empty database in one transaction and returns
// three fresh tokens with read and manage scopes: a customer with several cases, the
// API key of the company most of those cases are with, and a platform key.
func Demo(ctx context.Context, d *db.DB, p dispute.Policy, now time.Time) (DemoTokens, error) {
	now = ms(now)
	data, err := buildDemo(p, now)
	if err != nil {
		return DemoTokens{}, fmt.Errorf("seed: demo: %w", err)
	}
	scopes := []string{"read", "manage"}
	clear, err := d.Import(ctx, &data.Snapshot, []db.Token{
		{Kind: db.TokenUser, UserID: data.customerID, Scopes: scopes, Label: "demo customer (Maya Chen)"},
		{Kind: db.TokenCompany, CompanyID: data.merchantID, Scopes: scopes, Label: "demo merchant API key (Lumen Audio)"},
		{Kind: db.TokenPlatform, Scopes: scopes, Label: "demo platform staff"},
	}, now)
	if err != nil {
		return DemoTokens{}, fmt.Errorf("seed: demo: %w", err)
	}
	toks := DemoTokens{Customer: clear[0], Merchant: clear[1], Platform: clear[2]}
	toks.CaseID = data.featuredID
	return toks, nil
}

// demoData is every record of the demo, built before the transaction opens.
type demoData struct {
	db.Snapshot

	customerID, merchantID, featuredID string
}

// buildDemo plays every script through the policy. Times are spread over the weeks
// before now with a fixed-seed jitter, so the data is the same for the same now
// (except IDs).
func buildDemo(p dispute.Policy, now time.Time) (*demoData, error) {
	window := p.ResponseWindow
	if window <= 0 {
		window = dispute.DefaultResponseWindow
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	jitter := func(d time.Duration) time.Duration { // ±15%, whole milliseconds
		f := 0.85 + 0.3*rng.Float64()
		return time.Duration(float64(d)*f).Truncate(time.Millisecond) + time.Millisecond
	}
	// waiting scales a pause spent waiting for an answer to the policy's window.
	waiting := func(d time.Duration) time.Duration {
		return time.Duration(float64(d) * float64(window) / float64(dispute.DefaultResponseWindow))
	}
	at := func(age time.Duration) time.Time { return ms(now.Add(-jitter(age))) }

	dd := &demoData{}
	company := map[string]string{}
	for _, c := range demoCompanies {
		t := at(c.age)
		row := db.Company{ID: idAt(ids.Company, t, cryptoEntropy), Title: c.title, Route: c.route, CreatedAt: t}
		company[c.key] = row.ID
		dd.Companies = append(dd.Companies, row)
	}
	user := map[string]string{}
	for _, u := range demoUsers {
		t := at(u.age)
		row := db.User{ID: idAt(ids.User, t, cryptoEntropy), Name: u.name, Username: u.username, Email: u.email,
			ExternalID: DemoExternalID(u.username), CreatedAt: t}
		user[u.username] = row.ID
		dd.Users = append(dd.Users, row)
		if u.team != "" {
			dd.Team = append(dd.Team, db.TeamMember{CompanyID: company[u.team], UserID: row.ID, CreatedAt: at(u.age - 2*day)})
		}
	}
	type memKey struct{ user, company string }
	memberIdx := map[memKey]int{}
	for i, m := range demoMemberships {
		t := at(m.age)
		row := db.Membership{ID: idAt(ids.Membership, t, cryptoEntropy), UserID: user[m.customer],
			CompanyID: company[m.company], Active: true, CreatedAt: t}
		if m.canceledAgo > 0 {
			canceled := at(m.canceledAgo)
			row.Active, row.CanceledAt = false, &canceled
		}
		memberIdx[memKey{m.customer, m.company}] = i
		dd.Memberships = append(dd.Memberships, row)
	}
	newPayment := func(userID, companyID, memberID, currency string, total, subtotal int64, t time.Time) db.Payment {
		row := db.Payment{ID: idAt(ids.Payment, t, cryptoEntropy), UserID: userID, CompanyID: companyID,
			MembershipID: memberID, Currency: currency, Total: total, PaidAt: &t, CreatedAt: t}
		if subtotal > 0 {
			s := subtotal
			row.Subtotal = &s
		}
		return row
	}
	// casePaid remembers when each membership was charged for a case, so the monthly
	// charges leave that month out.
	casePaid := map[int][]time.Time{}

	for n, sc := range demoCases {
		userID, companyID := user[sc.customer], company[sc.company]
		memberID := ""
		mi, hasMember := memberIdx[memKey{sc.customer, sc.company}]
		if sc.member {
			if !hasMember {
				return nil, fmt.Errorf("case %d: %s has no membership with %s", n, sc.customer, sc.company)
			}
			memberID = dd.Memberships[mi].ID
		}
		tl := timeline{p: p}
		// Play the script from now, then shift it back so its last event lands endedAgo
		// before now.
		c := dispute.Case{Issue: sc.issue, CompanyID: companyID, UserID: userID, MemberID: memberID}
		if err := tl.open(c, sc.opening, now); err != nil {
			return nil, fmt.Errorf("case %d: %w", n, err)
		}
		for _, s := range sc.steps {
			var err error
			t := tl.last()
			switch {
			case s.actor == dispute.ActorSystem:
				if tl.c.DueDate == nil {
					return nil, fmt.Errorf("case %d: deadline step without a deadline", n)
				}
				err = tl.expire(tl.c.DueDate.Add(30*time.Second + time.Duration(rng.IntN(90_000))*time.Millisecond))
			default:
				pause := jitter(s.after)
				if tl.c.DueDate != nil {
					pause = waiting(pause)
				}
				t = t.Add(pause)
				if s.record != "" {
					err = tl.record(s.record, s.msg, t)
				} else {
					err = tl.apply(s.actor, s.action, dispute.Input{Message: s.msg, TerminateMembership: s.terminate}, t)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("case %d: %w", n, err)
			}
		}
		ended := jitter(sc.endedAgo)
		if tl.c.DueDate != nil {
			ended = waiting(ended)
		}
		tl.shift(now.Add(-ended).Sub(tl.last()))
		if tl.c.DueDate != nil && !tl.c.DueDate.After(now) {
			return nil, fmt.Errorf("case %d: its deadline %s has already passed", n, tl.c.DueDate)
		}

		created := tl.c.CreatedAt
		paid := ms(created.Add(-jitter(sc.paidBefore)))
		pay := newPayment(userID, companyID, memberID, sc.currency, sc.total, sc.subtotal, paid)
		if sc.member {
			casePaid[mi] = append(casePaid[mi], paid)
		}
		if !tl.refundedAt.IsZero() {
			pay.Refund(tl.refundedAt)
		}
		if !tl.canceledAt.IsZero() {
			canceled := tl.canceledAt
			dd.Memberships[mi].Active, dd.Memberships[mi].CanceledAt = false, &canceled
		}
		dd.Payments = append(dd.Payments, pay)

		tl.c.ID = idAt(ids.Resolution, created, cryptoEntropy)
		tl.c.PaymentID = pay.ID
		dd.Cases = append(dd.Cases, tl.c)
		for _, ev := range tl.events {
			ev.ID, ev.ResolutionID = idAt(ids.Event, ev.CreatedAt, cryptoEntropy), tl.c.ID
			dd.Events = append(dd.Events, ev)
		}
		if n == demoFeatured {
			dd.featuredID = tl.c.ID
		}
	}

	// Monthly charges of every membership, up to its cancellation.
	for i, m := range demoMemberships {
		row := dd.Memberships[i]
		end := now
		if row.CanceledAt != nil {
			end = *row.CanceledAt
		}
	charges:
		for t := row.CreatedAt.Add(time.Hour); t.Before(end); t = t.Add(30 * day) {
			for _, c := range casePaid[i] {
				if d := c.Sub(t); d > -20*day && d < 20*day {
					continue charges
				}
			}
			dd.Payments = append(dd.Payments, newPayment(row.UserID, row.CompanyID, row.ID, m.currency, m.price, 0, ms(t)))
		}
	}
	for _, b := range demoPurchases {
		dd.Payments = append(dd.Payments, newPayment(user[b.customer], company[b.company], "", b.currency, b.total, 0, at(b.age)))
	}
	sort.SliceStable(dd.Payments, func(i, j int) bool { return dd.Payments[i].CreatedAt.Before(dd.Payments[j].CreatedAt) })

	dd.customerID = user["maya.chen"]
	dd.merchantID = company["lumen"]
	return dd, nil
}

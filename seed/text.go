package seed

import (
	"math/rand/v2"

	"resolutioncenter/dispute"
)

// Names and messages of the bulk data set. Messages are plain text of the kind
// customers, merchants and staff write; the generator picks them at random, so the
// same sentence appears on many cases.

var firstNames = []string{
	"Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "James",
	"Mia", "Lucas", "Amelia", "Mateo", "Harper", "Ethan", "Evelyn", "Aiden", "Chloe", "Samuel",
	"Priya", "Arjun", "Aisha", "Omar", "Yuki", "Haruto", "Mei", "Wei", "Fatima", "Ibrahim",
	"Chiara", "Luca", "Sofia", "Marco", "Léa", "Hugo", "Ingrid", "Lars", "Zofia", "Jakub",
	"Amara", "Kwame", "Nia", "Tunde", "Camila", "Diego", "Valentina", "Santiago", "Hannah", "Felix",
	"Grace", "Daniel", "Zoe", "Leo", "Nora", "Theo", "Maya", "Adam", "Ines", "Tomás",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Lee", "Thompson",
	"White", "Harris", "Clark", "Lewis", "Walker", "Young", "King", "Wright", "Scott", "Green",
	"Patel", "Shah", "Khan", "Chen", "Wang", "Li", "Kim", "Park", "Nguyen", "Tanaka",
	"Sato", "Suzuki", "Müller", "Schmidt", "Schneider", "Fischer", "Rossi", "Russo", "Bianchi", "Dubois",
	"Moreau", "Laurent", "Novak", "Kowalski", "Nowak", "Okafor", "Mensah", "Silva", "Santos", "Costa",
}

var companyFirst = []string{
	"Northwind", "Bluebird", "Copper", "Harbor", "Summit", "Maple", "Juniper", "Granite", "Lantern", "Meadow",
	"Silver", "Cedar", "Atlas", "Brightside", "Fieldnote", "Lumen", "Orchard", "Pioneer", "Redwood", "Saltwater",
	"Tidal", "Union", "Velvet", "Willow", "Alpine", "Beacon", "Cobalt", "Driftwood", "Evergreen", "Foxglove",
}

var companySecond = []string{
	"Coffee Roasters", "Fitness Club", "Audio", "Stationery", "Outfitters", "Bakery", "Books", "Games",
	"Yoga Studio", "Skincare", "Pet Supply", "Home Goods", "Bike Works", "Tea Company", "Streaming",
	"Language School", "Meal Kits", "Cloud Storage", "Print Shop", "Flowers", "Vinyl", "Camera Co.",
	"Software", "Apparel", "Kitchenware",
}

var emailDomains = []string{"example.com", "example.net", "example.org"}

var openings = map[dispute.Issue][]string{
	dispute.IssueForgotToCancel: {
		"I cancelled my subscription last month but I was charged again. Please refund this charge and make sure it's cancelled.",
		"I forgot to cancel after the free trial and haven't used the service at all since. Could you refund this renewal?",
		"I thought the plan ended automatically after the promotion. I'd like this month refunded and the membership closed.",
		"I requested cancellation by email two weeks ago and still got billed today.",
		"I was charged for another year. I haven't logged in for months and meant to cancel before the renewal date.",
		"The app said my membership was cancelled, but the charge went through anyway.",
	},
	dispute.IssueItemNotReceived: {
		"My order hasn't arrived. Tracking hasn't updated in over a week.",
		"The parcel was marked as delivered, but nothing was left at my door or with my neighbours.",
		"It has been three weeks and the order still shows \"processing\". I'd like a refund.",
		"Only one of the two items I paid for arrived.",
		"The tracking number I received doesn't work on the carrier's website.",
		"The delivery was returned to the sender without any attempt to contact me.",
	},
	dispute.IssueSignificantlyNotAsDescribed: {
		"The item I received is a different model from the one in the listing.",
		"The listing said solid wood, but the frame is painted particle board.",
		"The size is completely different from the measurements on the product page.",
		"The colour is nothing like the photos; it's grey, not navy.",
		"The course was advertised as live sessions, but it's only pre-recorded videos.",
		"The listing promised a two-year warranty, but the manual says ninety days.",
	},
	dispute.IssueUnauthorizedTransaction: {
		"I don't recognise this charge and I have never bought anything from this merchant.",
		"Someone used my card without permission. I've already reported it to my bank.",
		"I was charged twice for the same order.",
		"This charge was made after I had removed my card from my account.",
		"My child made this purchase without my permission.",
	},
	dispute.IssueProductUnacceptable: {
		"The product arrived broken. The box was crushed and the glass is shattered.",
		"It stopped working after two days of normal use.",
		"The food was spoiled when it arrived; the cold packs were completely melted.",
		"The item is clearly used: there are scratches and someone else's data on it.",
		"The zipper broke the first time I used the bag.",
		"The battery won't charge past 20%.",
	},
}

var (
	merchantResponds = []string{
		"Thanks for reaching out. We've checked your order and will get back to you with details shortly.",
		"We're sorry about this. Our records show the order was shipped on time; we've opened a trace with the carrier.",
		"We can offer a replacement or store credit. Which would you prefer?",
		"Our logs show the subscription was active and used during this period. Could you check again?",
		"We're happy to help. The item can be returned with the prepaid label we've just emailed you.",
		"We believe this was delivered correctly; the carrier's scan shows delivery to your address.",
		"We've escalated this to our warehouse team and expect an answer within two business days.",
	}
	merchantMoreInfo = []string{
		"Could you send a photo of the item and the packaging?",
		"Can you confirm the shipping address, including the apartment number?",
		"Could you share the email address you used when you cancelled?",
		"Please send us the order number from your confirmation email so we can look it up.",
		"Which device and app version were you using when this happened?",
		"Could you check with your neighbours or building reception and let us know?",
		"Can you tell us the date you contacted us to cancel and which channel you used?",
	}
	merchantNotes = []string{
		"Just following up: the carrier has confirmed they are investigating.",
		"We've added the tracking details to your order page.",
		"A reminder that the return label expires in 10 days.",
		"We've passed this on to our billing team; they'll reply here.",
	}
	merchantInfoReplies = []string{
		"Attached is the carrier's proof of delivery with a signature and GPS location.",
		"Here are the login records showing the account was used after the renewal.",
		"We've uploaded the order log and the product description as it was at the time of purchase.",
		"We have no record of a cancellation request before the renewal date; our support inbox export is attached.",
		"The tracking history and the warehouse packing photo are attached.",
	}
	merchantStatements = []string{
		"For the reviewer: the customer accepted the terms of service, which state renewals are non-refundable.",
		"We stand by our description; the listing clearly states the dimensions.",
		"We offered a full replacement twice and received no reply.",
		"We're willing to accept a return for a refund if the item comes back unused.",
	}
	merchantDenies = []string{
		"The order was delivered as described and we can't offer a refund.",
		"Our records show the subscription was used after the renewal, so the charge stands.",
		"The carrier confirms delivery to the address on the order. We consider this resolved.",
		"The product matches the listing; the differences you describe are within normal variation.",
		"Our terms state that renewals are non-refundable once the billing period has started.",
		"We've reviewed the photos and the damage appears to be from use, not shipping.",
	}
	merchantAccepts = []string{
		"We've issued a full refund. Sorry for the trouble!",
		"Refund processed. You don't need to return the item.",
		"Apologies, this was our mistake. The charge has been refunded.",
		"We've refunded the payment and cancelled the subscription.",
		"Refunded in full. Thanks for your patience.",
	}
	merchantAppeals = []string{
		"We'd like this decision reviewed: we have proof of delivery that wasn't considered.",
		"The customer used the service for the whole period; our usage logs are attached.",
		"The refund was granted without our evidence. We're providing the signed delivery receipt.",
		"We believe the review missed our response. Please look at the attached order history.",
	}
	customerReplies = []string{
		"I've attached the photos you asked for.",
		"My address is correct; it's the same one I've used for every order.",
		"I contacted you by email on the 3rd; I can forward that message.",
		"I checked with my neighbours and the building manager. Nobody received anything.",
		"The order number is in the original confirmation email. I still haven't received anything.",
		"I don't want a replacement, I'd like a refund please.",
		"I've already tried that and it didn't help.",
		"Thanks. I'll wait for the carrier's answer, but please keep this open.",
	}
	customerNotes = []string{
		"Any update on this?",
		"Adding: I also contacted your support chat, but nobody answered.",
		"I've attached my bank statement showing the charge.",
		"Just to add, I still have the original packaging.",
	}
	customerInfoReplies = []string{
		"Here is a screenshot of my cancellation confirmation.",
		"I've uploaded photos of the item and the packaging.",
		"The delivery address is correct. I was home all day and nobody came.",
		"My bank statement is attached; the charge is listed twice.",
		"I can confirm I didn't authorise this purchase; my bank has the card blocked now.",
	}
	customerStatements = []string{
		"For the reviewer: I've done everything the merchant asked and still have nothing.",
		"I'd just like my money back; I'm happy to return the item at my cost.",
		"The merchant stopped answering after my last message.",
		"Please note that the merchant's proof of delivery shows a different street.",
	}
	customerWithdraws = []string{
		"The package arrived today. Thanks!",
		"The merchant sorted it out directly with me, so I'm closing this.",
		"I found the charge, it was my partner. Sorry for the trouble.",
		"Resolved: I received a replacement.",
		"I've decided to keep the item.",
	}
	customerAppeals = []string{
		"I disagree with this decision. The merchant never responded to my questions.",
		"Please review again: the tracking shows the parcel went to the wrong city.",
		"I have new evidence: a screenshot of my cancellation from before the renewal.",
		"The item is still broken and the merchant's answer didn't address the problem.",
		"I never received anything. I'm appealing because the proof of delivery isn't mine.",
	}
	platformBuyerInfo = []string{
		"Please upload a screenshot or email confirming your cancellation request.",
		"Please send photos of the item you received, including any labels or serial numbers.",
		"Please confirm the delivery address and whether anyone else at that address could have received the parcel.",
		"Please share your bank statement entry for this charge.",
	}
	platformMerchantInfo = []string{
		"Please provide proof of delivery from the carrier for this order.",
		"Please provide the account's usage logs for the billing period in question.",
		"Please share the product listing as it appeared at the time of purchase.",
		"Please provide evidence that the customer was informed about the renewal.",
	}
	platformMerchantWins = []string{
		"The merchant's evidence shows the order was fulfilled as described.",
		"The subscription was used after the renewal date, so the charge stands.",
		"Proof of delivery to the customer's address was provided.",
	}
	platformRefunds = []string{
		"The merchant did not provide proof of delivery. The payment is refunded in full.",
		"The evidence shows the item doesn't match the listing. The payment is refunded.",
		"The customer cancelled before the renewal; the charge is refunded.",
	}
	disputeOpened = []string{
		"The cardholder's bank opened a chargeback for this payment.",
		"Chargeback received from the card network (reason: fraud, card not present).",
		"The issuing bank opened a dispute: merchandise not received.",
	}
	disputeCustomerWon = []string{
		"The bank decided the chargeback in the cardholder's favour.",
		"Chargeback closed: funds returned to the cardholder.",
	}
	disputeMerchantWon = []string{
		"The bank decided the chargeback in the merchant's favour.",
		"Chargeback reversed after the merchant's representment.",
	}
)

// pick returns one of list, or "" when the message is optional and left out
// (probability skip).
func pick(r *rand.Rand, list []string, skip float64) string {
	if skip > 0 && r.Float64() < skip {
		return ""
	}
	return list[r.IntN(len(list))]
}

// messageFor chooses the details of a move made while the case is in status s.
func messageFor(r *rand.Rand, m move, s dispute.Status) string {
	switch m {
	case mvCustomerRespond:
		switch s {
		case dispute.StatusCustomerResponseNeeded:
			return pick(r, customerReplies, 0)
		case dispute.StatusCustomerInfoNeeded:
			return pick(r, customerInfoReplies, 0)
		case dispute.StatusUnderPlatformReview:
			return pick(r, customerStatements, 0)
		}
		return pick(r, customerNotes, 0)
	case mvCustomerWithdraw:
		return pick(r, customerWithdraws, 0.3)
	case mvCustomerAppeal:
		return pick(r, customerAppeals, 0)
	case mvMerchantAccept:
		return pick(r, merchantAccepts, 0.4)
	case mvMerchantDeny:
		return pick(r, merchantDenies, 0)
	case mvMerchantMoreInfo:
		return pick(r, merchantMoreInfo, 0)
	case mvMerchantRespond:
		switch s {
		case dispute.StatusMerchantResponseNeeded:
			return pick(r, merchantResponds, 0)
		case dispute.StatusMerchantInfoNeeded:
			return pick(r, merchantInfoReplies, 0)
		case dispute.StatusUnderPlatformReview:
			return pick(r, merchantStatements, 0)
		}
		return pick(r, merchantNotes, 0)
	case mvMerchantAppeal:
		return pick(r, merchantAppeals, 0)
	case mvPlatformBuyerInfo:
		return pick(r, platformBuyerInfo, 0)
	case mvPlatformMerchantInfo:
		return pick(r, platformMerchantInfo, 0)
	case mvPlatformMerchantWins:
		return pick(r, platformMerchantWins, 0.3)
	case mvPlatformRefund:
		return pick(r, platformRefunds, 0.3)
	}
	return ""
}

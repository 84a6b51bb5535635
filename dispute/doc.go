// Package dispute is the domain of the resolution center: the statuses of a case,
// who may do what in each of them, and what every action changes. It is pure:
// no I/O, no clock, no context. The caller passes the actor, the action and the
// current time, and stores what comes back.
//
// # The lifecycle
//
// A customer opens a case about one of their payments, naming an issue and
// explaining it (Open). The case starts in merchant_response_needed with a
// created event, and the merchant has a response window (7 days by default) to
// answer. The merchant can accept, which ends the case as customer_won and
// refunds the payment from the merchant's balance; deny, which ends it as
// merchant_won; respond or request more information (at most 3 times per case),
// which hands the turn to the customer in customer_response_needed. There the
// customer answers, handing the turn back, while the merchant can still deny,
// accept or add a message. Either party may add a message when it is not their
// turn; that does not move the deadline. The customer may withdraw any open case.
//
// The platform moderates every open case: it can ask either side for
// information (merchant_info_needed, customer_info_needed; the request and its
// answer are hidden from the other side), and it decides. merchant_wins ends
// the case as merchant_won; merchant_refund ends it as customer_won with the
// merchant refunding. An answer to the platform's request moves the case to
// under_platform_review, where both sides may add statements for the reviewer.
//
// Deadlines decide for a silent party (Expire): a merchant who lets
// merchant_response_needed or merchant_info_needed lapse is escalated to
// under_platform_review; a customer who lets customer_response_needed or
// customer_info_needed lapse loses (merchant_won, denied by the system).
//
// A closed case can be appealed once, by either side, and then the next
// decision is final. The customer may appeal merchant_won; the merchant may
// appeal customer_won only when the platform decided it, never its own accept.
// An appeal reopens the case in under_platform_review.
//
// # One table
//
// Every rule lives in a single transition table. Apply decides an action from
// it, Allowed lists the actions it offers (so what is listed always succeeds and
// what is not is always refused), and Expire applies its deadline rows. A
// refusal is an *Error with a Code from a closed set; ACTION_NOT_ALLOWED and
// LIMIT_REACHED carry the actions allowed now. Names of statuses, actors and
// actions stay data in the error (Refusal, Allowed), so that each surface
// renders them in its own vocabulary (Error.Text): wire names in logs, enum
// names in the GraphQL API.
//
// # Decisions beyond the contract
//
//   - Messages are required for respond, deny, appeal, request_more_info,
//     request_buyer_info, request_merchant_info and Open, and optional for accept,
//     withdraw, merchant_wins and merchant_refund. A required message must not be
//     blank (white space only); any message is valid UTF-8 without NUL
//     characters and at most 10,000 characters (code points).
//   - Entering a waiting status (merchant_response_needed,
//     customer_response_needed, merchant_info_needed, customer_info_needed)
//     starts a new window: dueDate = now + window. under_platform_review and the
//     closed statuses have no deadline. A transition that keeps the status keeps
//     the deadline too, including a platform request repeated while the case
//     already waits for that answer.
//   - Apply does not refuse an action because the deadline has passed: until
//     Expire runs, the case is still open and a late answer still counts.
//   - Closing records the outcome, the refund and the deciding actor
//     (DecidedBy); an appeal clears all three and sets the appellant's flag.
//   - A refund is made once per payment: accept and merchant_refund report
//     Effects.RefundPayment only if the payment was not refunded yet; either way
//     the case's refund is merchant. merchant_wins and the customer-side deadline
//     record refund=platform when the customer already got the money, else none.
//     deny records none (it is unreachable once the payment is refunded: an
//     appeal lands in under_platform_review, where the merchant cannot deny).
//   - accept with TerminateMembership cancels the membership only when the case
//     has one; without one the flag is ignored.
//   - Only the merchant's request_more_info counts towards MaxInfoRequests;
//     the platform's requests are not limited. Going over is LIMIT_REACHED.
//   - Permission is checked before the message, so a refused action reports
//     ACTION_NOT_ALLOWED even with an invalid message. An unknown actor or
//     action is INVALID_ARGUMENT; the system actor has no actions in Apply.
//   - Record appends chargeback events (dispute_opened, dispute_customer_won,
//     dispute_merchant_won) by the platform in any status, without changing the
//     status or the deadline.
//   - A case waits on one party at a time (Status.WaitsOn, read off the table):
//     the side whose respond moves it on (customer_response_needed and
//     customer_info_needed wait on the customer, merchant_response_needed and
//     merchant_info_needed on the merchant), the platform under review, nobody
//     once closed. Actions open to everyone (the customer's withdraw, the
//     merchant's accept, the platform's moves) do not make a case wait on them,
//     nor does a possible appeal of a closed case.
//   - A zero Policy field means its default, so Policy{} is DefaultPolicy().
//
// dispute imports nothing of this module: it is the center every other package
// depends on.
package dispute

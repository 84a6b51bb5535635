package dispute

// Whose turn it is. A case "waits on" the party that has to act for it to move on:
// the customer or the merchant when it is their turn to answer, the platform while it
// is under review, nobody once it is closed. This is what an inbox's "waiting on me"
// shows; it is read off the transition table, not kept as a second rule.

// waitsOn is WaitsOn for every status, computed once from the table.
var waitsOn = func() map[Status]Actor {
	m := make(map[Status]Actor, len(Statuses))
	for _, s := range Statuses {
		m[s] = deriveWaitsOn(s)
	}
	return m
}()

// deriveWaitsOn reads the table: in an open status, the side whose respond moves the
// case on is the side it waits on (the other side's respond adds a message and leaves
// the status, and the deadline); when neither side's respond moves it, only the
// platform's decisions can: it waits on the platform. A closed status waits on nobody:
// an appeal is a choice of the losing side, not an answer the case waits for.
func deriveWaitsOn(s Status) Actor {
	if !s.Open() {
		return ""
	}
	for _, a := range []Actor{ActorCustomer, ActorMerchant} {
		if r := lookup(s, a, ActionRespond); r != nil && r.to != "" && r.to != s {
			return a
		}
	}
	return ActorPlatform
}

// WaitsOn returns the party a case in status s waits on: ActorCustomer
// (customer_response_needed, customer_info_needed), ActorMerchant
// (merchant_response_needed, merchant_info_needed), ActorPlatform
// (under_platform_review), or "" for a closed status.
func (s Status) WaitsOn() Actor { return waitsOn[s] }

// StatusesWaitingOn lists, in Statuses order, the statuses in which a case waits on
// actor; none for the system or an unknown actor.
func StatusesWaitingOn(actor Actor) []Status {
	var out []Status
	for _, s := range Statuses {
		if actor != "" && waitsOn[s] == actor {
			out = append(out, s)
		}
	}
	return out
}

// WaitingOn reports whether a case in status s waits on a viewer whose role on the
// case is role (see WaitsOn).
func WaitingOn(s Status, role Actor) bool { return role != "" && waitsOn[s] == role }

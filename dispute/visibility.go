package dispute

// VisibleTo reports whether actor may see the event. The platform sees the whole
// timeline; the customer and the merchant see the events flagged for them. The
// system is not a viewer and sees nothing, nor does an unknown actor: a missing
// role must never widen what is shown.
func (e Event) VisibleTo(actor Actor) bool {
	switch actor {
	case ActorPlatform:
		return true
	case ActorCustomer:
		return e.ViewableByCustomer
	case ActorMerchant:
		return e.ViewableByMerchant
	}
	return false
}

// VisibleEvents returns the events actor may see, in their original order. It
// allocates a new slice and leaves events untouched.
func VisibleEvents(events []Event, actor Actor) []Event {
	out := make([]Event, 0, len(events))
	for _, e := range events {
		if e.VisibleTo(actor) {
			out = append(out, e)
		}
	}
	return out
}

package dispute

// Notice announces a committed change of a case: the case now has an event at
// Position and is at Version. It carries no content: whoever receives it reads what
// is new from the timeline by position, so a notice that is lost or repeated never
// loses or repeats an event.
type Notice struct {
	CaseID   string
	Position int
	Version  int
}

// TimelineRead asks for the next events of a case's timeline: those after position
// After that one of Viewers may see (as Event.VisibleTo says), in position order, at
// most Limit of them. Whoever follows a timeline (the live-update hub) reads it so, a
// bounded chunk at a time, from where each reader stands.
type TimelineRead struct {
	CaseID  string
	After   int
	Viewers []Actor
	Limit   int
}

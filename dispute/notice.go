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

package graph

// responseBudget is the hook for a bound on the size of a response (issue 11,
// MAX_RESPONSE_BYTES): the planned writer checks it as the data grows, after each
// object, so a response too large is abandoned instead of being built whole. Exceeding
// it ends the planned run with the fallback reason "response_budget", and gqlgen's
// executor answers: whatever the size limit decides for it (its error, its code) then
// holds for both executors alike. nil or max 0: no bound.
type responseBudget struct {
	max int
}

// exceeded reports whether n bytes of data are over the budget.
func (b *responseBudget) exceeded(n int) bool { return b != nil && b.max > 0 && n > b.max }

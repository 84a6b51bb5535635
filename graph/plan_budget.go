package graph

// planBudget bounds the data of a planned response by the response's ResponseBudget
// (MAX_RESPONSE_BYTES, see response_budget.go): the planned writer checks it as the
// data grows, after each object, so that a response too large is abandoned instead of
// being built whole; it checks as well the long texts written so far (writer.charged),
// with which gqlgen's executor charges the budget as they resolve, whether or not an
// error nulls them later. Abandoned, it is answered by gqlgen's executor (fallback reason
// response_budget): data past the budget is not yet an answer past it, since an error
// later in the selection may null what was written (gqlgen's executor measures the
// data once complete, and charges long texts as they resolve). nil or max 0: no bound.
type planBudget struct {
	max int
}

// exceeded reports whether n bytes of data are over the budget.
func (b *planBudget) exceeded(n int) bool { return b != nil && b.max > 0 && n > b.max }

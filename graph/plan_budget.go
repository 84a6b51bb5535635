package graph

// planBudget bounds the data of a planned response by the response's ResponseBudget
// (MAX_RESPONSE_BYTES, see response_budget.go): the planned writer checks it as the
// data grows, after each object, so a response too large is abandoned instead of being
// built whole. Exceeding it spends the request's ResponseBudget, so that its extension
// answers RESPONSE_TOO_LARGE alone, exactly as for gqlgen's executor. nil or max 0: no
// bound.
type planBudget struct {
	max int
	rb  *ResponseBudget
}

// exceeded reports whether n bytes of data are over the budget.
func (b *planBudget) exceeded(n int) bool { return b != nil && b.max > 0 && n > b.max }

// spend marks the request's budget spent (its extension then answers the error).
func (b *planBudget) spend(n int) {
	if b != nil && b.rb != nil {
		_ = b.rb.Spend(n)
	}
}

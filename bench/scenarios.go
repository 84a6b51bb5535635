package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
)

// The read and write scenarios over HTTP. Each builds its fixtures, then hands measure
// an opFunc whose request bodies are encoded up front.

const caseFields = `id status issue createdAt updatedAt dueDate customerAppealed merchantAppealed
  viewerActions outcome refund version`

const listQuery = `query BenchList($after: String) {
  resolutions(first: 20, after: $after) {
    edges { cursor node { ` + caseFields + `
      company { id title route }
      user { id name username email }
      payment { id status currency total { amount currency minorUnits } refundedAmount { amount } paidAt createdAt }
      member { id status createdAt canceledAt }
      events(first: 10) { edges { cursor node { id action reporterType details fromStatus toStatus createdAt position } }
        pageInfo { hasNextPage endCursor } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`

// listTotalQuery is listQuery with the counts a frontend's list shows: the number of
// cases in all (totalCount, from the server's case counts) and each case's number of
// events (the platform's is on the case row).
var listTotalQuery = strings.NewReplacer("query BenchList(", "query BenchListTotal(",
	"resolutions(first: 20, after: $after) {", "resolutions(first: 20, after: $after) {\n    totalCount",
	"events(first: 10) {", "events(first: 10) { totalCount").Replace(listQuery)

// inboxQuery is README's inbox example ("Reading"; a test holds them equal): the cases
// waiting on the caller, soonest deadline first, with totalCount, each case's events
// with theirs, and the summary's tab counts.
const inboxQuery = `# customer, merchant or platform: my cases waiting on me, soonest deadline first
{
  resolutions(first: 20, filter: {waitingOnMe: true}) {
    totalCount
    edges { cursor node { id status issue dueDate viewerActions
      company { title } user { username email } payment { total { amount currency } }
      events(first: 5) { totalCount nodes { action reporterType details createdAt } } } }
    pageInfo { hasNextPage endCursor }
  }
  resolutionSummary { total open waitingOnMe byStatus { status count } }
}
`

const detailQuery = `query BenchDetail($id: ID!) {
  resolution(id: $id) { ` + caseFields + `
    customerResponseActions merchantResponseActions platformResponseActions
    company { id title route createdAt }
    user { id name username email }
    payment { id status currency total { amount currency minorUnits } subtotal { amount minorUnits }
      refundedAmount { amount minorUnits } paidAt refundedAt createdAt
      user { id username } company { id title } }
    member { id status createdAt canceledAt user { id username } company { id title } }
    resolutionEvents { id action reporterType details fromStatus toStatus viewableByCustomer viewableByMerchant createdAt position }
  }
}`

const respondMutation = `mutation BenchRespond($input: ResolutionMessageInput!) {
  respondToResolution(input: $input) {
    resolution { id status version }
    event { id createdAt }
    userErrors { code field message }
    replayed
  }
}`

// post returns an opFunc that sends body (as token) to the first URL and checks the answer.
func (e *env) post(body []byte, token string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		b, err := e.gql[0].rawRequest(ctx, token, body)
		if err != nil {
			return err
		}
		return checkBody(b)
	}
}

// runList measures a page of the list (name "list"), or the same with its counts
// ("list-total").
func (e *env) runList(ctx context.Context, name string) (Result, error) {
	query := listQuery
	if name == "list-total" {
		query = listTotalQuery
	}
	do := e.post(encodeRequest(query, map[string]any{"after": nil}), e.opts.Token)
	r := e.measure(ctx, name, func(ctx context.Context, _, _ int) error { return do(ctx) })
	return r, nil
}

// runInbox measures README's inbox example as a merchant: a read-only key of the
// company with the most cases (or -company).
func (e *env) runInbox(ctx context.Context) (Result, error) {
	company, cases, err := e.biggestCompany(ctx)
	if err != nil {
		return Result{}, err
	}
	token, err := e.createToken(ctx, map[string]any{"holder": map[string]any{"companyId": company}, "scopes": []string{"READ"}})
	if err != nil {
		return Result{}, err
	}
	e.logf("inbox: as the merchant %s (%d cases)", company, cases)
	do := e.post(encodeRequest(inboxQuery, nil), token)
	r := e.measure(ctx, "inbox", func(ctx context.Context, _, _ int) error { return do(ctx) })
	r.extra("company", company)
	r.extra("company_cases", cases)
	return r, nil
}

func (e *env) runDeepPage(ctx context.Context) (Result, error) {
	e.logf("deep-page: finding the cursor of page %d", e.opts.DeepPage)
	cursor, depth, err := e.deepCursor(ctx, e.opts.DeepPage, 20)
	if err != nil {
		return Result{}, err
	}
	do := e.post(encodeRequest(listQuery, map[string]any{"after": cursor}), e.opts.Token)
	r := e.measure(ctx, "deep-page", func(ctx context.Context, _, _ int) error { return do(ctx) })
	r.extra("cases_before_page", depth)
	return r, nil
}

// runDetail reads whole cases. Its pool is cases waiting on the merchant, topped up in
// setup (customer messages) to at least -fill-events events each, so resolutionEvents
// returns a full 50 rather than the few events a generated case has.
func (e *env) runDetail(ctx context.Context) (Result, error) {
	cases, err := e.listCases(ctx, e.opts.DetailCases, "MERCHANT_RESPONSE_NEEDED")
	if err != nil {
		return Result{}, err
	}
	if e.opts.FillEvents > 0 {
		if err := e.fillEvents(ctx, cases, e.opts.FillEvents); err != nil {
			return Result{}, err
		}
	}
	bodies := make([][]byte, len(cases))
	for i, c := range cases {
		bodies[i] = encodeRequest(detailQuery, map[string]any{"id": c.ID})
	}
	var next atomic.Int64
	r := e.measure(ctx, "detail", func(ctx context.Context, _, _ int) error {
		body := bodies[int(next.Add(1))%len(bodies)]
		return e.post(body, e.opts.Token)(ctx)
	})
	r.extra("cases", len(cases))
	return r, nil
}

// fillEvents adds customer messages to cases (waiting on the merchant) until each has
// at least n events.
func (e *env) fillEvents(ctx context.Context, cases []caseRef, n int) error {
	users := make([]string, len(cases))
	for i, c := range cases {
		users[i] = c.UserID
	}
	toks, err := e.userTokens(ctx, users)
	if err != nil {
		return err
	}
	added := 0
	for _, c := range cases {
		var data struct {
			Resolution struct{ ResolutionEvents []struct{ ID string } }
		}
		q := `query BenchSetupCount($id: ID!) { resolution(id: $id) { resolutionEvents { id } } }`
		if err := e.gql[0].Do(ctx, e.opts.Token, q, map[string]any{"id": c.ID}, &data); err != nil {
			return fmt.Errorf("count events: %w", err)
		}
		missing := n - len(data.Resolution.ResolutionEvents)
		if missing <= 0 {
			continue
		}
		body := encodeRequest(respondMutation, map[string]any{"input": map[string]any{
			"resolutionId": c.ID, "message": "bench setup: a message to fill the timeline"}})
		errs := make(chan error, missing)
		sem := make(chan struct{}, 4)
		for i := 0; i < missing; i++ {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				errs <- e.post(body, toks[c.UserID])(ctx)
			}()
		}
		for i := 0; i < missing; i++ {
			if err := <-errs; err != nil {
				return fmt.Errorf("fill events of %s: %w", c.ID, err)
			}
		}
		added += missing
	}
	if added > 0 {
		e.logf("detail: added %d events so every case has at least %d", added, n)
	}
	return nil
}

// runMutate has customers respond on their cases waiting on the merchant: allowed
// any number of times, the status stays, so the run can repeat forever. Each worker
// takes every c-th case, so two workers write the same case only when the pool has
// fewer cases than workers.
func (e *env) runMutate(ctx context.Context) (Result, error) {
	cases, err := e.listCases(ctx, e.opts.Pool, "MERCHANT_RESPONSE_NEEDED")
	if err != nil {
		return Result{}, err
	}
	users := make([]string, len(cases))
	for i, c := range cases {
		users[i] = c.UserID
	}
	e.logf("mutate: issuing customer tokens for %d cases", len(cases))
	toks, err := e.userTokens(ctx, users)
	if err != nil {
		return Result{}, err
	}
	run := randomWord()
	c := e.opts.Concurrency
	r := e.measure(ctx, "mutate", func(ctx context.Context, w, i int) error {
		k := (w + i*c) % len(cases)
		cs := cases[k]
		input := map[string]any{"resolutionId": cs.ID, "message": fmt.Sprintf("bench %s message %d/%d", run, w, i)}
		if e.opts.IdempotencyKeys {
			input["idempotencyKey"] = fmt.Sprintf("bench-%s-%d-%d", run, w, i)
		}
		return e.post(encodeRequest(respondMutation, map[string]any{"input": input}), toks[cs.UserID])(ctx)
	})
	r.extra("cases", len(cases))
	r.extra("customers", len(toks))
	return r, nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// The counting scenarios: the inbox's tab counts (resolutionSummary) and a
// connection's totalCount, as the platform and as the merchant with the most cases.
// -filter narrows every one of them (a JSON ResolutionFilter), e.g. a date range,
// which the server cannot answer from its counts.

const summaryFields = `total open byStatus { status count } byIssue { issue count } byOutcome { outcome count }`

const summaryScenarioQuery = `query BenchSummary($filter: ResolutionFilter) {
  resolutionSummary(filter: $filter) { ` + summaryFields + ` }
}`

const countScenarioQuery = `query BenchCount($filter: ResolutionFilter) {
  resolutions(first: 0, filter: $filter) { totalCount }
}`

// runCount measures query as the platform or, with merchant, as a company key of the
// company with the most cases (or -company).
func (e *env) runCount(ctx context.Context, name, query string, merchant bool) (Result, error) {
	var filter map[string]any
	if e.opts.Filter != "" {
		if err := json.Unmarshal([]byte(e.opts.Filter), &filter); err != nil {
			return Result{}, fmt.Errorf("-filter: %w", err)
		}
	}
	token := e.opts.Token
	var company string
	var cases int
	if merchant {
		var err error
		if company, cases, err = e.biggestCompany(ctx); err != nil {
			return Result{}, err
		}
		if token, err = e.createToken(ctx, map[string]any{"holder": map[string]any{"companyId": company}, "scopes": []string{"READ"}}); err != nil {
			return Result{}, err
		}
		e.logf("%s: as the merchant %s (%d cases)", name, company, cases)
	}
	do := e.post(encodeRequest(query, map[string]any{"filter": filter}), token)
	r := e.measure(ctx, name, func(ctx context.Context, _, _ int) error { return do(ctx) })
	if merchant {
		r.extra("company", company)
		r.extra("company_cases", cases)
	}
	if e.opts.Filter != "" {
		r.extra("filter", e.opts.Filter)
	}
	return r, nil
}

const companiesQuery = `query BenchSetupCompanies($first: Int!, $after: String) {
  resolutions(first: $first, after: $after) {
    nodes { company { id } }
    pageInfo { hasNextPage endCursor }
  }
}`

// biggestCompany returns -company, or the company with the most cases among those of
// the 500 newest cases (the generated data's busiest merchants are busy every day),
// with its number of cases.
func (e *env) biggestCompany(ctx context.Context) (string, int, error) {
	var candidates []string
	if e.opts.Company != "" {
		candidates = []string{e.opts.Company}
	} else {
		seen := map[string]bool{}
		var after any
		for page := 0; page < 5; page++ {
			var data struct {
				Resolutions struct {
					Nodes    []struct{ Company *struct{ ID string } }
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
			if err := e.gql[0].Do(ctx, e.opts.Token, companiesQuery, map[string]any{"first": 100, "after": after}, &data); err != nil {
				return "", 0, fmt.Errorf("list companies: %w", err)
			}
			for _, n := range data.Resolutions.Nodes {
				if n.Company != nil && !seen[n.Company.ID] {
					seen[n.Company.ID] = true
					candidates = append(candidates, n.Company.ID)
				}
			}
			if !data.Resolutions.PageInfo.HasNextPage {
				break
			}
			after = data.Resolutions.PageInfo.EndCursor
		}
	}
	best, most := "", -1
	for _, id := range candidates {
		n, err := e.countWhere(ctx, map[string]any{"companyId": id})
		if err != nil {
			return "", 0, fmt.Errorf("count the cases of %s: %w", id, err)
		}
		if n > most {
			best, most = id, n
		}
	}
	if best == "" {
		return "", 0, errors.New("no company found: seed the database first (go run . seed -cases N)")
	}
	return best, most, nil
}

// countWhere counts the cases matching filter, as the platform.
func (e *env) countWhere(ctx context.Context, filter map[string]any) (int, error) {
	var data struct{ ResolutionSummary struct{ Total int } }
	err := e.gql[0].Do(ctx, e.opts.Token, summaryQuery, map[string]any{"filter": filter}, &data)
	return data.ResolutionSummary.Total, err
}

const turnCasesQuery = `query BenchSetupTurnCases($first: Int!, $after: String) {
  resolutions(first: $first, after: $after, filter: {statuses: [MERCHANT_RESPONSE_NEEDED]}) {
    nodes { id user { id } company { id } }
    pageInfo { hasNextPage endCursor }
  }
}`

// runMutateTurns makes writes that change the counts: on -pool cases waiting on the
// merchant, the merchant and the customer answer in turn (merchant_response_needed to
// customer_response_needed and back), each answer moving the case between two
// statuses. Worker w owns cases w, w+c, ..., so it knows whose turn it is; a refusal
// (someone else moved the case) is an error and hands the turn over.
func (e *env) runMutateTurns(ctx context.Context) (Result, error) {
	type turnCase struct{ id, user, company string }
	var cases []turnCase
	var after any
	for len(cases) < e.opts.Pool {
		var data struct {
			Resolutions struct {
				Nodes []struct {
					ID      string
					User    struct{ ID string }
					Company *struct{ ID string }
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		vars := map[string]any{"first": min(100, e.opts.Pool-len(cases)), "after": after}
		if err := e.gql[0].Do(ctx, e.opts.Token, turnCasesQuery, vars, &data); err != nil {
			return Result{}, fmt.Errorf("list cases: %w", err)
		}
		for _, n := range data.Resolutions.Nodes {
			if n.Company != nil {
				cases = append(cases, turnCase{n.ID, n.User.ID, n.Company.ID})
			}
		}
		if !data.Resolutions.PageInfo.HasNextPage {
			break
		}
		after = data.Resolutions.PageInfo.EndCursor
	}
	c := e.opts.Concurrency
	per := len(cases) / c
	if per == 0 {
		return Result{}, fmt.Errorf("mutate-turns: %d cases waiting on the merchant for %d clients: need at least one each", len(cases), c)
	}
	cases = cases[:per*c]
	var users []string
	companies := map[string]string{}
	for _, cs := range cases {
		users = append(users, cs.user)
		companies[cs.company] = ""
	}
	e.logf("mutate-turns: issuing tokens for %d cases", len(cases))
	toks, err := e.userTokens(ctx, users)
	if err != nil {
		return Result{}, err
	}
	for id := range companies {
		if companies[id], err = e.createToken(ctx, map[string]any{"holder": map[string]any{"companyId": id}, "scopes": []string{"READ", "MANAGE"}}); err != nil {
			return Result{}, err
		}
	}
	customerTurn := make([]bool, len(cases)) // worker w only touches its own cases' entries
	run := randomWord()
	r := e.measure(ctx, "mutate-turns", func(ctx context.Context, w, i int) error {
		k := w + (i%per)*c
		cs := cases[k]
		token := companies[cs.company]
		if customerTurn[k] {
			token = toks[cs.user]
		}
		customerTurn[k] = !customerTurn[k]
		input := map[string]any{"resolutionId": cs.id, "message": fmt.Sprintf("bench %s turn %d/%d", run, w, i)}
		return e.post(encodeRequest(respondMutation, map[string]any{"input": input}), token)(ctx)
	})
	r.extra("cases", len(cases))
	return r, nil
}

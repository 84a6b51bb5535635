package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Setup work: fetching case IDs, issuing tokens and finding a deep cursor. None of
// it is measured; it runs before a scenario's warm-up.

// caseRef is a case picked for a scenario.
type caseRef struct {
	ID, Status, UserID, Cursor string
}

const listCasesQuery = `query BenchSetupCases($first: Int!, $after: String, $filter: ResolutionFilter) {
  resolutions(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id status user { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`

// listCases returns up to n cases, newest first, optionally only in some statuses.
func (e *env) listCases(ctx context.Context, n int, statuses ...string) ([]caseRef, error) {
	var out []caseRef
	var after any
	filter := map[string]any{}
	if len(statuses) > 0 {
		filter["statuses"] = statuses
	}
	for len(out) < n {
		var data struct {
			Resolutions struct {
				Edges []struct {
					Cursor string
					Node   struct {
						ID, Status string
						User       struct{ ID string }
					}
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		vars := map[string]any{"first": min(100, n-len(out)), "after": after, "filter": filter}
		if err := e.gql[0].Do(ctx, e.opts.Token, listCasesQuery, vars, &data); err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		for _, ed := range data.Resolutions.Edges {
			out = append(out, caseRef{ID: ed.Node.ID, Status: ed.Node.Status, UserID: ed.Node.User.ID, Cursor: ed.Cursor})
		}
		if !data.Resolutions.PageInfo.HasNextPage {
			break
		}
		after = data.Resolutions.PageInfo.EndCursor
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no cases found (statuses %v): seed the database first (go run . seed -cases N)", statuses)
	}
	return out, nil
}

const createTokenMutation = `mutation BenchSetupToken($input: CreateTokenInput!) {
  createToken(input: $input) { token userErrors { code message } }
}`

// createToken issues a token as the platform.
func (e *env) createToken(ctx context.Context, input map[string]any) (string, error) {
	var data struct {
		CreateToken struct {
			Token      *string
			UserErrors []struct{ Code, Message string }
		}
	}
	input["label"] = "bench"
	if err := e.gql[0].Do(ctx, e.opts.Token, createTokenMutation, map[string]any{"input": input}, &data); err != nil {
		return "", fmt.Errorf("createToken: %w", err)
	}
	if ue := data.CreateToken.UserErrors; len(ue) > 0 {
		return "", fmt.Errorf("createToken: %s: %s", ue[0].Code, ue[0].Message)
	}
	if data.CreateToken.Token == nil {
		return "", errors.New("createToken returned no token")
	}
	return *data.CreateToken.Token, nil
}

// userTokens issues one READ+MANAGE token per distinct user, four at a time.
func (e *env) userTokens(ctx context.Context, userIDs []string) (map[string]string, error) {
	out := map[string]string{}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	var distinct []string
	seen := map[string]bool{}
	for _, id := range userIDs {
		if !seen[id] {
			seen[id] = true
			distinct = append(distinct, id)
		}
	}
	for _, id := range distinct {
		wg.Add(1)
		sem <- struct{}{}
		go func(id string) {
			defer wg.Done()
			defer func() { <-sem }()
			tok, err := e.createToken(ctx, map[string]any{"holder": map[string]any{"userId": id}, "scopes": []string{"READ", "MANAGE"}})
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			out[id] = tok
		}(id)
	}
	wg.Wait()
	return out, firstErr
}

// readTokens issues k platform READ tokens (the server limits subscriptions per token).
func (e *env) readTokens(ctx context.Context, k int) ([]string, error) {
	toks := make([]string, k)
	for i := range toks {
		var err error
		if toks[i], err = e.createToken(ctx, map[string]any{"holder": map[string]any{"platform": true}, "scopes": []string{"READ"}}); err != nil {
			return nil, err
		}
	}
	return toks, nil
}

const summaryQuery = `query BenchSetupCount($filter: ResolutionFilter) { resolutionSummary(filter: $filter) { total } }`

// countCases counts the cases created at or after t (all cases when t is zero).
func (e *env) countCases(ctx context.Context, t time.Time) (int, error) {
	filter := map[string]any{}
	if !t.IsZero() {
		filter["createdAfter"] = formatTime(t)
	}
	var data struct{ ResolutionSummary struct{ Total int } }
	err := e.gql[0].Do(ctx, e.opts.Token, summaryQuery, map[string]any{"filter": filter}, &data)
	return data.ResolutionSummary.Total, err
}

const edgeQuery = `query BenchSetupEdge($order: ResolutionOrder, $filter: ResolutionFilter) {
  resolutions(first: 1, orderBy: $order, filter: $filter) { edges { cursor node { createdAt } } }
}`

// edge returns the cursor and creation time of the first case in an order and filter.
func (e *env) edge(ctx context.Context, dir string, filter map[string]any) (string, time.Time, error) {
	var data struct {
		Resolutions struct {
			Edges []struct {
				Cursor string
				Node   struct{ CreatedAt time.Time }
			}
		}
	}
	vars := map[string]any{"order": map[string]any{"field": "CREATED_AT", "direction": dir}, "filter": filter}
	if err := e.gql[0].Do(ctx, e.opts.Token, edgeQuery, vars, &data); err != nil {
		return "", time.Time{}, err
	}
	if len(data.Resolutions.Edges) == 0 {
		return "", time.Time{}, errors.New("no case found")
	}
	ed := data.Resolutions.Edges[0]
	return ed.Cursor, ed.Node.CreatedAt, nil
}

// deepCursor finds the cursor after which page `page` (of pageSize cases, newest
// first) starts, without walking: it bisects on creation time with counts
// (resolutionSummary with createdAfter), then takes the cursor of the newest case
// created before the time found. It returns the cursor and the number of cases before
// the page. When the data set is smaller, it goes half-way instead.
func (e *env) deepCursor(ctx context.Context, page, pageSize int) (string, int, error) {
	total, err := e.countCases(ctx, time.Time{})
	if err != nil {
		return "", 0, fmt.Errorf("count cases: %w", err)
	}
	target := page * pageSize
	if target >= total {
		target = total / 2
		e.logf("deep-page: only %d cases; paging half-way (%d cases deep) instead of page %d", total, target, page)
	}
	_, newest, err := e.edge(ctx, "DESC", nil)
	if err != nil {
		return "", 0, err
	}
	_, oldest, err := e.edge(ctx, "ASC", nil)
	if err != nil {
		return "", 0, err
	}
	// count(t) = cases created at or after t, decreasing in t: find t with count ~ target.
	lo, hi := oldest, newest.Add(time.Millisecond) // count(lo) = total >= target > 0 = count(hi)
	tolerance := max(pageSize, target/1000)
	found := total
	for hi.Sub(lo) > time.Millisecond {
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Millisecond)
		n, err := e.countCases(ctx, mid)
		if err != nil {
			return "", 0, fmt.Errorf("count cases: %w", err)
		}
		if n >= target {
			lo, found = mid, n
		} else {
			hi = mid
		}
		if n >= target && n-target <= tolerance {
			break
		}
	}
	cursor, _, err := e.edge(ctx, "DESC", map[string]any{"createdBefore": formatTime(lo)})
	if err != nil {
		return "", 0, fmt.Errorf("case before %s: %w", formatTime(lo), err)
	}
	return cursor, found + 1, nil
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

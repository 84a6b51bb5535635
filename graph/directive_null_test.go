package graph_test

import (
	"net/http"
	"strings"
	"testing"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// TestDirectiveConditionNull: a variable of type Boolean with a default may stand for
// @skip's and @include's "if: Boolean!", and a client may still send it as null. That
// is the client's mistake (the argument may not be null), refused as INVALID_ARGUMENT
// on both executors; it used to panic in gqlgen's CollectFields (and in the planner's
// compilation), answered 500 "internal error".
func TestDirectiveConditionNull(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		planned := apptest.New(t, d)
		plain := apptest.New(t, d, apptest.Options{Env: map[string]string{"QUERY_PLANNER": "false"}})
		ops := []string{
			`query($a: Boolean = true) { viewer @include(if: $a) { role } }`,
			`query($a: Boolean = false) { viewer { role ... on Viewer @skip(if: $a) { scopes } } }`,
			// @skip(if: true) does not spare @include from being evaluated.
			`query($a: Boolean = true) { viewer @skip(if: true) @include(if: $a) { role } }`,
			`query($a: Boolean = true) { ...F } fragment F on Query { viewer { role @include(if: $a) } }`,
			`mutation($a: Boolean = true) { revokeToken(input: {tokenId: "tok_x"}) @include(if: $a) { userErrors { code } } }`,
		}
		for _, s := range []*apptest.Server{planned, plain} {
			for _, q := range ops {
				r := s.Do(t, apptest.PlatformToken, q, map[string]any{"a": nil})
				if r.Status == http.StatusInternalServerError || r.FirstCode() != "INVALID_ARGUMENT" || r.HasData() ||
					!strings.Contains(string(r.Raw), "null") {
					t.Errorf("%s with $a null: %d %s", q, r.Status, apptest.Trunc(r.Raw, 300))
				}
			}
			// Still answered when the variable has a value or takes its default.
			r := s.Do(t, apptest.PlatformToken, ops[0], nil)
			if !strings.Contains(string(r.Data), `"role":"PLATFORM"`) {
				t.Errorf("with the default: %d %s", r.Status, r.Raw)
			}
		}
	})
}

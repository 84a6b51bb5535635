package graph_test

import (
	"slices"
	"testing"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// TestViewerActionsNeedManage: viewerActions is what the caller may do now, so a token
// without MANAGE (company key, user, platform) is offered nothing, in every place a
// case is read, while the same principal's MANAGE token is offered its role's actions.
// Issue 11: READ-only tokens were offered actions that then answered FORBIDDEN.
func TestViewerActionsNeedManage(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		c := dbtest.MustCast(t, d)
		caseID := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
		const q = `query($id: ID!) { resolution(id: $id) { viewerActions }
			resolutions(first: 5) { nodes { id viewerActions } } nodes(ids: [$id]) { ... on Resolution { viewerActions } } }`
		type answer struct {
			Resolution  struct{ ViewerActions []string }
			Resolutions struct {
				Nodes []struct {
					ID            string
					ViewerActions []string
				}
			}
			Nodes []struct{ ViewerActions []string }
		}
		for _, tc := range []struct {
			name        string
			read, write string
		}{
			{"customer", c.CustomerReadToken, c.CustomerToken},
			{"company key", c.CompanyReadToken, c.CompanyToken},
			{"platform", c.PlatformReadToken, c.PlatformToken},
		} {
			var ro, rw answer
			s.MustData(t, tc.read, q, map[string]any{"id": caseID}, &ro)
			s.MustData(t, tc.write, q, map[string]any{"id": caseID}, &rw)
			lists := func(a answer) [][]string {
				out := [][]string{a.Resolution.ViewerActions, a.Nodes[0].ViewerActions}
				for _, n := range a.Resolutions.Nodes {
					if n.ID == caseID {
						out = append(out, n.ViewerActions)
					}
				}
				return out
			}
			for i, l := range lists(ro) {
				if l == nil || len(l) != 0 {
					t.Errorf("%s read-only, place %d: viewerActions %v, want []", tc.name, i, l)
				}
			}
			for i, l := range lists(rw) {
				if len(l) == 0 || !slices.Equal(l, rw.Resolution.ViewerActions) {
					t.Errorf("%s with MANAGE, place %d: viewerActions %v", tc.name, i, l)
				}
			}
			if len(lists(ro)) != 3 || len(lists(rw)) != 3 {
				t.Errorf("%s: the case is missing from a list", tc.name)
			}
		}
	})
}

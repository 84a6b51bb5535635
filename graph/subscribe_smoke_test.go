package graph_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// TestSubscriptionDeliversEventsInOrderPerVisibility subscribes as the customer and the
// merchant over WebSocket and checks each receives exactly the events it may see.
func TestSubscriptionDeliversEventsInOrderPerVisibility(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		biz, u := dbtest.MustCompany(t, d), dbtest.MustUser(t, d)
		pay := dbtest.MustPayment(t, d, u, biz, "")
		opened := dbtest.MustOpen(t, d, pay, dispute.IssueItemNotReceived, dbtest.Now())
		ct := dbtest.MustToken(t, d, db.TokenUser, u.ID, true)
		mt := dbtest.MustToken(t, d, db.TokenCompany, biz.ID, true)
		const q = `subscription($id: ID!) { resolutionEventAdded(resolutionId: $id) { cursor node { position action reporterType } } }`
		vars := map[string]any{"id": opened.Case.ID}
		cws := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + ct})
		cws.Subscribe("1", q, vars)
		mws := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + mt})
		mws.Subscribe("1", q, vars)
		time.Sleep(200 * time.Millisecond) // let both subscriptions register

		act := func(token, mutation string) {
			t.Helper()
			var out map[string]struct{ UserErrors []any }
			s.MustData(t, token, mutation, vars, &out)
			for k, v := range out {
				if len(v.UserErrors) > 0 {
					t.Fatalf("%s refused: %v", k, v.UserErrors)
				}
			}
		}
		act(apptest.PlatformToken, `mutation($id: ID!) { requestMerchantInfo(input: {resolutionId: $id, message: "Proof of delivery?"}) { userErrors { code } } }`)
		act(mt, `mutation($id: ID!) { respondToResolution(input: {resolutionId: $id, message: "Tracking attached"}) { userErrors { code } } }`)
		act(apptest.PlatformToken, `mutation($id: ID!) { requestBuyerInfo(input: {resolutionId: $id, message: "Photos?"}) { userErrors { code } } }`)
		act(ct, `mutation($id: ID!) { respondToResolution(input: {resolutionId: $id, message: "Here"}) { userErrors { code } } }`)

		positions := func(ws *apptest.WS, n int) []int {
			t.Helper()
			var got []int
			for len(got) < n {
				m := ws.Read(10 * time.Second)
				if m.Type != "next" {
					t.Fatalf("want next, got %s %s", m.Type, m.Payload)
				}
				var p struct {
					Data struct {
						ResolutionEventAdded struct {
							Cursor string
							Node   struct{ Position int }
						}
					}
				}
				if err := json.Unmarshal(m.Payload, &p); err != nil {
					t.Fatal(err)
				}
				got = append(got, p.Data.ResolutionEventAdded.Node.Position)
			}
			return got
		}
		// Positions 2 and 3 are hidden from the customer, 4 and 5 from the merchant.
		if got := positions(cws, 2); !equalInts(got, []int{4, 5}) {
			t.Errorf("customer got positions %v, want [4 5]", got)
		}
		if got := positions(mws, 2); !equalInts(got, []int{2, 3}) {
			t.Errorf("merchant got positions %v, want [2 3]", got)
		}
		if m, err := cws.TryRead(300 * time.Millisecond); err == nil {
			t.Errorf("customer got an extra message: %+v", m)
		} else if !strings.Contains(err.Error(), "deadline") {
			t.Errorf("customer read: %v", err)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

package app_test

// Webhooks end to end: the server built by app on both engines, endpoints registered
// over GraphQL, a receiver on loopback (webhooktest) that verifies every signature
// with its own implementation of Standard Webhooks and every body against the
// committed JSON Schema.

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/ids"
	"resolutioncenter/webhook"
	"resolutioncenter/webhook/webhooktest"
)

// fastWebhooks turns delivery workers on (apptest.Defaults has none) with a short
// clock: 1 s timeout, retries from 200 ms.
var fastWebhooks = map[string]string{
	"WEBHOOK_WORKERS":       "50",
	"WEBHOOK_TIMEOUT":       "1s",
	"WEBHOOK_RETRY_BASE":    "200ms",
	"WEBHOOK_POLL_INTERVAL": "100ms",
}

const createEndpointMutation = `mutation($in: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $in) {
  endpoint { id url enabled eventTypes company { id } } secret userErrors { code field message } } }`

type endpointResult struct {
	CreateWebhookEndpoint struct {
		Endpoint *struct {
			ID, URL    string
			Enabled    bool
			EventTypes []string
		}
		Secret     *string
		UserErrors []struct{ Code, Field, Message string }
	}
}

// mustEndpoint registers url as token and returns the endpoint ID and its secret.
func mustEndpoint(t *testing.T, s *apptest.Server, token, url string, extra map[string]any) (string, string) {
	t.Helper()
	in := map[string]any{"url": url, "description": "test receiver"}
	for k, v := range extra {
		in[k] = v
	}
	var out endpointResult
	s.MustData(t, token, createEndpointMutation, map[string]any{"in": in}, &out)
	r := out.CreateWebhookEndpoint
	if len(r.UserErrors) > 0 || r.Endpoint == nil || r.Secret == nil {
		t.Fatalf("createWebhookEndpoint refused: %+v", r.UserErrors)
	}
	if !strings.HasPrefix(*r.Secret, "whsec_") || !r.Endpoint.Enabled || len(r.Endpoint.EventTypes) != 3 && extra["eventTypes"] == nil {
		t.Fatalf("unexpected endpoint %+v secret %q", r.Endpoint, *r.Secret)
	}
	return r.Endpoint.ID, *r.Secret
}

// act runs a case mutation and fails on any refusal; it returns the case ID.
func act(t *testing.T, s *apptest.Server, token, mutation string, in map[string]any) string {
	t.Helper()
	var out map[string]struct {
		Resolution *struct{ ID string }
		UserErrors []struct{ Code, Message string }
	}
	s.MustData(t, token, `mutation($in: `+inputType(mutation)+`!) { `+mutation+`(input: $in) { resolution { id } userErrors { code message } } }`,
		map[string]any{"in": in}, &out)
	r := out[mutation]
	if len(r.UserErrors) > 0 || r.Resolution == nil {
		t.Fatalf("%s refused: %+v", mutation, r.UserErrors)
	}
	return r.Resolution.ID
}

func inputType(mutation string) string {
	switch mutation {
	case "openResolution":
		return "OpenResolutionInput"
	case "decideMerchantRefund", "decideMerchantWins":
		return "DecideResolutionInput"
	case "denyResolution":
		return "DenyResolutionInput"
	case "acceptResolution":
		return "AcceptResolutionInput"
	}
	return "ResolutionMessageInput"
}

// TestWebhooksDelivered: every committed change reaches the company's endpoint once
// (as accepted), signed, valid against the schema, in commit order, with the merchant's
// visibility (the platform's exchange with the buyer stays hidden); a refused action
// sends nothing; the delivery log shows every delivery as delivered.
func TestWebhooksDelivered(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d, apptest.Options{Env: fastWebhooks})
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		epID, secret := mustEndpoint(t, s, c.CompanyToken, rcv.URL, nil)
		rcv.SetSecrets(secret)
		// Another company's endpoint must receive nothing of this company's cases.
		other := webhooktest.Start(t)
		_, otherSecret := mustEndpoint(t, s, c.OtherCompanyToken, other.URL, nil)
		other.SetSecrets(otherSecret)

		pay := c.MustPayment(t, d)
		caseID := act(t, s, c.CustomerToken, "openResolution", map[string]any{"paymentId": pay.ID, "issue": "ITEM_NOT_RECEIVED", "message": "Never came."})
		act(t, s, apptest.PlatformToken, "requestBuyerInfo", map[string]any{"resolutionId": caseID, "message": "Your bank statement?"})
		act(t, s, c.CustomerToken, "respondToResolution", map[string]any{"resolutionId": caseID, "message": "Attached."})
		// A refused action (deny needs a message) commits nothing and sends nothing.
		r := s.Do(t, c.CompanyToken, `mutation($id: ID!) { denyResolution(input: {resolutionId: $id, message: " "}) { userErrors { code } } }`,
			map[string]any{"id": caseID})
		if !strings.Contains(string(r.Data), "INVALID_ARGUMENT") && !strings.Contains(string(r.Data), "ACTION_NOT_ALLOWED") {
			t.Fatalf("deny: %s", r.Raw)
		}
		act(t, s, apptest.PlatformToken, "decideMerchantRefund", map[string]any{"resolutionId": caseID})

		got := rcv.WaitAccepted(t, 5, 20*time.Second)
		time.Sleep(300 * time.Millisecond) // nothing more may come
		got = rcv.Accepted()
		rcv.CheckAll(t)
		want := []string{"created", "updated", "updated", "updated", "decided"}
		if len(got) != len(want) {
			t.Fatalf("got %d deliveries, want %d: %v", len(got), len(want), types(got))
		}
		seen := map[string]bool{}
		for i, dl := range got {
			if dl.Type() != "resolution_center_case."+want[i] || dl.CaseID() != caseID {
				t.Fatalf("delivery %d: %s of %s, want %s of %s (all: %v)", i, dl.Type(), dl.CaseID(), want[i], caseID, types(got))
			}
			if seen[dl.ID] {
				t.Fatalf("webhook-id %s delivered twice", dl.ID)
			}
			seen[dl.ID] = true
		}
		last := got[4].Data()
		events := last["resolution_events"].([]any)
		var positions []float64
		for _, e := range events {
			positions = append(positions, e.(map[string]any)["position"].(float64))
		}
		if len(positions) != 2 || positions[0] != 1 || positions[1] != 4 {
			t.Errorf("merchant sees positions %v, want [1 4] (the buyer-info exchange is hidden)", positions)
		}
		if last["status"] != "customer_won" || last["refund"] != "merchant" || last["outcome"] != "customer_won" {
			t.Errorf("decided data: status %v refund %v outcome %v", last["status"], last["refund"], last["outcome"])
		}
		if pay := last["payment"].(map[string]any); pay["status"] != "refunded" {
			t.Errorf("payment in the decided payload: %v", pay["status"])
		}
		prev, _ := got[4].Payload["previous_attributes"].(map[string]any)
		if prev["status"] != "under_platform_review" {
			t.Errorf("previous_attributes.status = %v, want under_platform_review", prev["status"])
		}
		if _, ok := got[0].Payload["previous_attributes"]; ok {
			t.Errorf("created carries previous_attributes")
		}
		if n := len(other.All()); n != 0 {
			t.Errorf("another company's endpoint received %d deliveries", n)
		}

		var log struct {
			WebhookEndpoint struct {
				Deliveries struct {
					Nodes []struct {
						ID, Status, EventType string
						AttemptCount          int
						Attempts              []struct {
							Success    bool
							StatusCode *int
						}
					}
				}
			}
		}
		s.MustData(t, c.TeamMemberToken, `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 10) { nodes {
			id status eventType attemptCount attempts { success statusCode } } } } }`, map[string]any{"id": epID}, &log)
		nodes := log.WebhookEndpoint.Deliveries.Nodes
		if len(nodes) != 5 || nodes[0].EventType != "RESOLUTION_CENTER_CASE_DECIDED" {
			t.Fatalf("delivery log: %+v", nodes)
		}
		for _, n := range nodes {
			if n.Status != "DELIVERED" || n.AttemptCount != 1 || len(n.Attempts) != 1 || !n.Attempts[0].Success {
				t.Errorf("delivery %s: %+v", n.ID, n)
			}
		}
		// The log's payload is the body as sent, byte for byte.
		var newest struct {
			WebhookEndpoint struct {
				Deliveries struct {
					Nodes []struct{ ID, Payload string }
				}
			}
		}
		s.MustData(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 1) { nodes { id payload } } } }`,
			map[string]any{"id": epID}, &newest)
		if n := newest.WebhookEndpoint.Deliveries.Nodes; len(n) != 1 || n[0].ID != got[4].ID || n[0].Payload != string(got[4].Body) {
			t.Errorf("logged payload differs from the body received:\n%+v\n%s", n, got[4].Body)
		}
		// One case's deliveries: a second case's created is not among the first's.
		second := act(t, s, c.CustomerToken, "openResolution", map[string]any{"paymentId": c.MustPayment(t, d).ID,
			"issue": "ITEM_NOT_RECEIVED", "message": "This one too."})
		rcv.WaitAccepted(t, 6, 20*time.Second)
		byCase := func(id string) []string {
			t.Helper()
			var out struct {
				WebhookEndpoint struct {
					Deliveries struct {
						Nodes []struct{ ID, ResolutionID string }
					}
				}
			}
			s.MustData(t, c.CompanyToken, `query($id: ID!, $case: ID) { webhookEndpoint(id: $id) { deliveries(resolutionId: $case, first: 20) { nodes { id resolutionId } } } }`,
				map[string]any{"id": epID, "case": id}, &out)
			var ids []string
			for _, n := range out.WebhookEndpoint.Deliveries.Nodes {
				if n.ResolutionID != id {
					t.Errorf("deliveries(resolutionId: %s) listed %s of %s", id, n.ID, n.ResolutionID)
				}
				ids = append(ids, n.ID)
			}
			return ids
		}
		if first := byCase(caseID); len(first) != 5 || first[0] != got[4].ID || first[4] != got[0].ID {
			t.Errorf("the first case's deliveries: %v, want the 5 received, newest first", first)
		}
		if two := byCase(second); len(two) != 1 {
			t.Errorf("the second case's deliveries: %v", two)
		}
		if r := s.Do(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(resolutionId: "biz_01es00mgjpkedt6qvzexa8af2t") { nodes { id } } } }`,
			map[string]any{"id": epID}); !strings.Contains(string(r.Raw), "INVALID_ARGUMENT") {
			t.Errorf("a company ID as resolutionId: %s", r.Raw)
		}
		// A foreign merchant cannot see the endpoint.
		var foreign struct{ WebhookEndpoint *struct{ ID string } }
		s.MustData(t, c.OtherCompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { id } }`, map[string]any{"id": epID}, &foreign)
		if foreign.WebhookEndpoint != nil {
			t.Errorf("another company sees the endpoint")
		}
	})
}

func types(list []webhooktest.Delivery) []string {
	out := make([]string, len(list))
	for i, d := range list {
		out[i] = strings.TrimPrefix(d.Type(), "resolution_center_case.") + ":" + d.ID
	}
	return out
}

// TestWebhooksRetries: a receiver that answers 500, one that does not answer within the
// timeout, and one that is down for a while all get the delivery in the end, with the
// same webhook-id on every attempt; every attempt is in the log.
func TestWebhooksRetries(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d, apptest.Options{Env: fastWebhooks})
		c := dbtest.MustCast(t, d)

		failing := webhooktest.Start(t)
		failing.Respond = func(_ webhooktest.Delivery, n int) int {
			if n <= 2 {
				return 500
			}
			return 204
		}
		slow := webhooktest.Start(t)
		slow.Respond = func(_ webhooktest.Delivery, n int) int {
			if n == 1 {
				time.Sleep(1500 * time.Millisecond) // past WEBHOOK_TIMEOUT
			}
			return 200
		}
		// A receiver that is down: its port is known but nothing listens yet.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		downAddr := ln.Addr().String()
		ln.Close()

		epFailing, s1 := mustEndpoint(t, s, c.CompanyToken, failing.URL, nil)
		_, s2 := mustEndpoint(t, s, c.CompanyToken, slow.URL, nil)
		_, s3 := mustEndpoint(t, s, apptest.PlatformToken, "http://"+downAddr+"/hook", map[string]any{"companyId": c.Company.ID})
		failing.SetSecrets(s1)
		slow.SetSecrets(s2)

		pay := c.MustPayment(t, d)
		act(t, s, c.CustomerToken, "openResolution", map[string]any{"paymentId": pay.ID, "issue": "FORGOT_TO_CANCEL", "message": "Please refund."})

		got := failing.WaitAccepted(t, 1, 20*time.Second)
		all := failing.All()
		if len(all) != 3 || all[0].ID != got[0].ID || all[1].ID != got[0].ID {
			t.Fatalf("failing receiver: %d requests %v, want 3 with one webhook-id", len(all), types(all))
		}
		// The first request is answered 200 too late (the sender gave up after 1 s), so
		// the receiver sees it twice.
		slow.WaitAccepted(t, 2, 20*time.Second)
		if all := slow.All(); len(all) != 2 || all[0].ID != all[1].ID {
			t.Fatalf("slow receiver: %v", types(all))
		}
		time.Sleep(700 * time.Millisecond) // a few failed attempts at the down receiver
		ln, err = net.Listen("tcp", downAddr)
		if err != nil {
			t.Skipf("could not listen again on %s: %v", downAddr, err)
		}
		down := webhooktest.Serve(t, ln, s3) // its secret from the first request: the sender is retrying
		down.WaitAccepted(t, 1, 30*time.Second)
		for _, r := range []*webhooktest.Receiver{failing, slow, down} {
			r.CheckAll(t)
		}

		var log struct {
			WebhookEndpoint struct {
				FailingSince *string
				Deliveries   struct {
					Nodes []struct {
						Status       string
						AttemptCount int
						Attempts     []struct {
							Success         bool
							StatusCode      *int
							ResponseExcerpt *string
							Error           *string
							LatencyMs       int
						}
					}
				}
			}
		}
		s.MustData(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { failingSince deliveries { nodes { status attemptCount
			attempts { success statusCode responseExcerpt error latencyMs } } } } }`, map[string]any{"id": epFailing}, &log)
		n := log.WebhookEndpoint.Deliveries.Nodes
		if len(n) != 1 || n[0].Status != "DELIVERED" || n[0].AttemptCount != 3 || len(n[0].Attempts) != 3 {
			t.Fatalf("log: %+v", n)
		}
		a := n[0].Attempts
		if a[0].Success || a[0].StatusCode == nil || *a[0].StatusCode != 500 || a[0].ResponseExcerpt == nil ||
			!strings.Contains(*a[0].ResponseExcerpt, "answered 500") || !a[2].Success {
			t.Errorf("attempts: %+v", a)
		}
		if log.WebhookEndpoint.FailingSince != nil {
			t.Errorf("failingSince still set after a success: %v", *log.WebhookEndpoint.FailingSince)
		}
	})
}

// TestWebhooksGoneDisables: a 410 answer disables the endpoint with its reason; later
// changes send it nothing; redelivery is refused until it is enabled again, then works.
func TestWebhooksGoneDisables(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d, apptest.Options{Env: fastWebhooks})
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		var gone atomic.Bool
		gone.Store(true)
		rcv.Respond = func(webhooktest.Delivery, int) int {
			if gone.Load() {
				return 410
			}
			return 200
		}
		epID, secret := mustEndpoint(t, s, c.CompanyToken, rcv.URL, nil)
		rcv.SetSecrets(secret)
		pay := c.MustPayment(t, d)
		caseID := act(t, s, c.CustomerToken, "openResolution", map[string]any{"paymentId": pay.ID, "issue": "FORGOT_TO_CANCEL", "message": "Refund."})
		deadline := time.Now().Add(20 * time.Second)
		var ep struct {
			WebhookEndpoint struct {
				Enabled        bool
				DisabledReason *string
				DisabledAt     *string
				Deliveries     struct{ Nodes []struct{ ID, Status string } }
			}
		}
		for {
			s.MustData(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { enabled disabledReason disabledAt deliveries { nodes { id status } } } }`,
				map[string]any{"id": epID}, &ep)
			if !ep.WebhookEndpoint.Enabled || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		w := ep.WebhookEndpoint
		if w.Enabled || w.DisabledReason == nil || !strings.Contains(*w.DisabledReason, "410") || w.DisabledAt == nil {
			t.Fatalf("endpoint after 410: %+v", w)
		}
		if len(w.Deliveries.Nodes) != 1 || w.Deliveries.Nodes[0].Status != "FAILED" {
			t.Fatalf("deliveries: %+v", w.Deliveries.Nodes)
		}
		act(t, s, c.CustomerToken, "respondToResolution", map[string]any{"resolutionId": caseID, "message": "Hello?"})
		time.Sleep(500 * time.Millisecond)
		if n := len(rcv.All()); n != 1 {
			t.Fatalf("a disabled endpoint got %d requests", n)
		}
		delivery := w.Deliveries.Nodes[0].ID
		redeliver := `mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) { delivery { id status } userErrors { code } } }`
		if r := s.Do(t, c.CompanyToken, redeliver, map[string]any{"id": delivery}); !strings.Contains(string(r.Data), "ACTION_NOT_ALLOWED") {
			t.Fatalf("redeliver to a disabled endpoint: %s", r.Raw)
		}
		s.MustData(t, c.CompanyToken, `mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, enabled: true}) { endpoint { enabled } } }`,
			map[string]any{"id": epID}, nil)
		gone.Store(false)
		s.MustData(t, c.CompanyToken, redeliver, map[string]any{"id": delivery}, nil)
		got := rcv.WaitAccepted(t, 1, 20*time.Second)
		if got[0].ID != delivery {
			t.Fatalf("redelivered %s, want %s", got[0].ID, delivery)
		}
		rcv.CheckAll(t)
	})
}

// TestWebhooksRotation: after rotateWebhookSecret every delivery carries two
// signatures for 24 hours, one by each secret, each verifying on its own.
func TestWebhooksRotation(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d, apptest.Options{Env: fastWebhooks})
	c := dbtest.MustCast(t, d)
	rcv := webhooktest.Start(t)
	epID, oldSecret := mustEndpoint(t, s, c.CompanyToken, rcv.URL, nil)
	var rot struct {
		RotateWebhookSecret struct {
			Secret   string
			Endpoint struct{ PreviousSecretExpiresAt *string }
		}
	}
	s.MustData(t, c.CompanyToken, `mutation($id: ID!) { rotateWebhookSecret(input: {id: $id}) { secret endpoint { previousSecretExpiresAt } } }`,
		map[string]any{"id": epID}, &rot)
	newSecret := rot.RotateWebhookSecret.Secret
	if newSecret == oldSecret || rot.RotateWebhookSecret.Endpoint.PreviousSecretExpiresAt == nil {
		t.Fatalf("rotation: %+v", rot)
	}
	rcv.SetSecrets(newSecret)
	pay := c.MustPayment(t, d)
	act(t, s, c.CustomerToken, "openResolution", map[string]any{"paymentId": pay.ID, "issue": "FORGOT_TO_CANCEL", "message": "Refund."})
	got := rcv.WaitAccepted(t, 1, 20*time.Second)[0]
	rcv.CheckAll(t)
	entries := webhooktest.Entries(got.Signature)
	if len(entries) != 2 {
		t.Fatalf("signature header %q: want two entries", got.Signature)
	}
	for _, secret := range []string{oldSecret, newSecret} {
		if err := webhooktest.Verify([]string{secret}, got.ID, got.Timestamp, got.Signature, got.Body, time.Now()); err != nil {
			t.Errorf("secret %s…: %v", secret[:10], err)
		}
	}
	if err := webhooktest.Verify([]string{"whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, got.ID, got.Timestamp, got.Signature, got.Body, time.Now()); err == nil {
		t.Errorf("a wrong secret verifies")
	}
}

// TestWebhooksRefusedURLs: private, link-local, metadata and (outside development
// mode) loopback or plain-http URLs are refused when registered; a merchant cannot
// register for another company; a READ token cannot register.
func TestWebhooksRefusedURLs(t *testing.T) {
	d := dbtest.MustSQLite(t)
	prod := apptest.New(t, d, apptest.Options{Env: map[string]string{"DEV_MODE": "false"}})
	c := dbtest.MustCast(t, d)
	for _, url := range []string{
		"https://10.0.0.1/hook", "https://192.168.1.10/hook", "https://172.16.5.4/", "https://169.254.169.254/latest/meta-data",
		"https://[fd00:ec2::254]/", "https://[fd00:ec2::254%25eth0]/", "https://[fe80::1%25lo]/", "https://[::ffff:10.0.0.1]/", "https://127.0.0.1/hook", "https://localhost/hook",
		"https://[::127.0.0.1]/", "https://[::a9fe:a9fe]/", "https://[fec0::1]/", "https://[2001::a00:1]/",
		"https://１６９.２５４.１６９.２５４/latest/meta-data", "https://ｌｏｃａｌｈｏｓｔ/hook", "https://2130706433/", "https://example.com:99999/",
		"http://example.com/hook", "ftp://example.com/", "https://user:pw@example.com/", "not a url",
	} {
		r := prod.Do(t, c.CompanyToken, createEndpointMutation, map[string]any{"in": map[string]any{"url": url}})
		if !strings.Contains(string(r.Data), `"INVALID_ARGUMENT"`) || strings.Contains(string(r.Data), "whsec_") {
			t.Errorf("%s: %s", url, r.Raw)
		}
	}
	r := prod.Do(t, c.CompanyToken, createEndpointMutation, map[string]any{"in": map[string]any{"url": "https://example.com/hook", "companyId": c.OtherCompany.ID}})
	if r.FirstCode() != "NOT_FOUND" && !strings.Contains(string(r.Data), "NOT_FOUND") {
		t.Errorf("another company's endpoint: %s", r.Raw)
	}
	r = prod.Do(t, c.CompanyReadToken, createEndpointMutation, map[string]any{"in": map[string]any{"url": "https://example.com/hook"}})
	if r.FirstCode() != "FORBIDDEN" {
		t.Errorf("read token: %s", r.Raw)
	}
	r = prod.Do(t, c.CustomerToken, createEndpointMutation, map[string]any{"in": map[string]any{"url": "https://example.com/hook"}})
	if r.FirstCode() != "FORBIDDEN" {
		t.Errorf("customer: %s", r.Raw)
	}
	// A public https URL is accepted (nothing is sent: no case changes).
	mustEndpoint(t, prod, c.CompanyToken, "https://example.com/hook", nil)
}

// TestWebhooksDeliveryLogRetention: with WEBHOOK_DELIVERY_RETENTION the server's own
// sweeper empties the delivery log of what was delivered longer ago than that.
func TestWebhooksDeliveryLogRetention(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		env := map[string]string{"WEBHOOK_DELIVERY_RETENTION": "1s", "SWEEP_INTERVAL": "100ms"}
		for k, v := range fastWebhooks {
			env[k] = v
		}
		s := apptest.New(t, d, apptest.Options{Env: env})
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		epID, secret := mustEndpoint(t, s, c.CompanyToken, rcv.URL, nil)
		rcv.SetSecrets(secret)
		act(t, s, c.CustomerToken, "openResolution", map[string]any{"paymentId": c.MustPayment(t, d).ID, "issue": "ITEM_NOT_RECEIVED", "message": "Where?"})
		rcv.WaitAccepted(t, 1, 20*time.Second)
		logged := func() int {
			var out struct {
				WebhookEndpoint struct {
					Deliveries struct{ Nodes []struct{ ID string } }
				}
			}
			s.MustData(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 10) { nodes { id } } } }`,
				map[string]any{"id": epID}, &out)
			return len(out.WebhookEndpoint.Deliveries.Nodes)
		}
		if n := logged(); n != 1 {
			t.Fatalf("the log shows %d deliveries right after, want 1", n)
		}
		messages := func() int {
			var n []int
			if _, err := d.Raw(t.Context(), &n, "SELECT count(*) FROM webhook_messages"); err != nil {
				t.Fatal(err)
			}
			return n[0]
		}
		// The sweep deletes the delivery, then (another statement) its payload.
		for deadline := time.Now().Add(20 * time.Second); logged() != 0 || messages() != 0; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after the retention the log still shows %d deliveries, %d payloads are left", logged(), messages())
			}
		}
	})
}

// TestWebhooksRecoverFailed: after an outage that disabled an endpoint (500s, then 410
// Gone) with several changes failed, redeliverFailedWebhooks is refused while the
// endpoint is disabled and to another company, then, once enabled, sends every failed
// delivery again with its webhook-id, in commit order, once.
func TestWebhooksRecoverFailed(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d, apptest.Options{Env: fastWebhooks})
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		var mode atomic.Int32 // the answer: 500 until the changes are in, then 410, then 200
		mode.Store(500)
		rcv.Respond = func(webhooktest.Delivery, int) int { return int(mode.Load()) }
		epID, secret := mustEndpoint(t, s, c.CompanyToken, rcv.URL, map[string]any{"eventTypes": []string{"RESOLUTION_CENTER_CASE_CREATED", "RESOLUTION_CENTER_CASE_UPDATED"}})
		rcv.SetSecrets(secret)
		pay := c.MustPayment(t, d)
		caseID := act(t, s, c.CustomerToken, "openResolution", map[string]any{"paymentId": pay.ID, "issue": "FORGOT_TO_CANCEL", "message": "Refund."})
		act(t, s, c.CustomerToken, "respondToResolution", map[string]any{"resolutionId": caseID, "message": "Hello?"})
		act(t, s, c.CustomerToken, "respondToResolution", map[string]any{"resolutionId": caseID, "message": "Anyone?"})
		mode.Store(410)

		type node struct{ ID, Status, CreatedAt string }
		var ep struct {
			WebhookEndpoint struct {
				Enabled    bool
				Deliveries struct{ Nodes []node }
			}
		}
		for deadline := time.Now().Add(20 * time.Second); ; {
			s.MustData(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { enabled deliveries { nodes { id status createdAt } } } }`,
				map[string]any{"id": epID}, &ep)
			failed := 0
			for _, n := range ep.WebhookEndpoint.Deliveries.Nodes {
				if n.Status == "FAILED" {
					failed++
				}
			}
			if !ep.WebhookEndpoint.Enabled && failed == 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("endpoint after the outage: %+v", ep.WebhookEndpoint)
			}
			time.Sleep(50 * time.Millisecond)
		}
		nodes := ep.WebhookEndpoint.Deliveries.Nodes // newest first
		if len(nodes) != 3 {
			t.Fatalf("deliveries: %+v", nodes)
		}
		before := len(rcv.All())
		statusCount := func(status string) int {
			t.Helper()
			var out struct {
				WebhookEndpoint struct{ Deliveries struct{ Nodes []node } }
			}
			s.MustData(t, c.CompanyToken, `query($id: ID!, $st: WebhookDeliveryStatus) { webhookEndpoint(id: $id) { deliveries(status: $st) { nodes { id status createdAt } } } }`,
				map[string]any{"id": epID, "st": status}, &out)
			for _, n := range out.WebhookEndpoint.Deliveries.Nodes {
				if n.Status != status {
					t.Fatalf("deliveries(status: %s) listed %+v", status, n)
				}
			}
			return len(out.WebhookEndpoint.Deliveries.Nodes)
		}
		if f, d := statusCount("FAILED"), statusCount("DELIVERED"); f != 3 || d != 0 {
			t.Fatalf("after the outage: %d failed, %d delivered", f, d)
		}

		const recover = `mutation($id: ID!, $since: DateTime!) { redeliverFailedWebhooks(input: {endpointId: $id, since: $since}) {
  endpoint { id enabled } requeued hasMore userErrors { code field } } }`
		since := map[string]any{"id": epID, "since": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}
		if r := s.Do(t, c.CompanyToken, recover, since); !strings.Contains(string(r.Data), "ACTION_NOT_ALLOWED") {
			t.Fatalf("recover on a disabled endpoint: %s", r.Raw)
		}
		other := dbtest.MustCast(t, d)
		if r := s.Do(t, other.CompanyToken, recover, since); !strings.Contains(string(r.Raw), "NOT_FOUND") {
			t.Fatalf("recover by another company: %s", r.Raw)
		}
		if r := s.Do(t, c.CompanyToken, recover, map[string]any{"id": ids.New(ids.WebhookEndpoint), "since": since["since"]}); !strings.Contains(string(r.Raw), `"NOT_FOUND"`) ||
			!strings.Contains(string(r.Raw), "endpointId") {
			t.Fatalf("recover of an unknown endpoint: %s", r.Raw)
		}
		time.Sleep(300 * time.Millisecond)
		if n := len(rcv.All()); n != before {
			t.Fatalf("refused recoveries sent %d requests", n-before)
		}

		s.MustData(t, c.CompanyToken, `mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, enabled: true}) { endpoint { enabled } } }`,
			map[string]any{"id": epID}, nil)
		mode.Store(200)
		type result struct {
			RedeliverFailedWebhooks struct {
				Endpoint   struct{ ID string }
				Requeued   int
				HasMore    bool
				UserErrors []struct{ Code string }
			}
		}
		var out result
		s.MustData(t, c.CompanyToken, recover, map[string]any{"id": epID, "since": time.Now().Add(time.Minute).UTC().Format(time.RFC3339)}, &out)
		if r := out.RedeliverFailedWebhooks; r.Requeued != 0 || r.HasMore || len(r.UserErrors) > 0 {
			t.Fatalf("recover since a later time: %+v", r)
		}
		s.MustData(t, c.CompanyToken, recover, since, &out)
		if r := out.RedeliverFailedWebhooks; r.Requeued != 3 || r.HasMore || r.Endpoint.ID != epID || len(r.UserErrors) > 0 {
			t.Fatalf("recover: %+v", r)
		}
		got := rcv.WaitAccepted(t, 3, 20*time.Second)
		for i, g := range got {
			if want := nodes[len(nodes)-1-i].ID; g.ID != want {
				t.Fatalf("accepted #%d is %s, want %s (commit order)", i, g.ID, want)
			}
		}
		s.MustData(t, c.CompanyToken, recover, since, &out)
		if r := out.RedeliverFailedWebhooks; r.Requeued != 0 || r.HasMore {
			t.Fatalf("a second recovery: %+v", r)
		}
		for deadline := time.Now().Add(10 * time.Second); statusCount("DELIVERED") != 3; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after the recovery: %d delivered", statusCount("DELIVERED"))
			}
		}
		if f := statusCount("FAILED"); f != 0 {
			t.Fatalf("after the recovery: %d failed", f)
		}
		if r := s.Do(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(status: LOST) { nodes { id } } } }`,
			map[string]any{"id": epID}); len(r.Errors) == 0 {
			t.Fatalf("an unknown status: %s", r.Raw)
		}
		time.Sleep(500 * time.Millisecond)
		if n := len(rcv.Accepted()); n != 3 {
			t.Fatalf("%d accepted, want 3", n)
		}
		rcv.CheckAll(t)
	})
}

// TestWebhooksSendTest: sendTestWebhook sends one signed webhook_endpoint.test request
// now (verified by the receiver's own implementation and valid against the schema) and
// answers what the endpoint said; a failing answer, a timeout or a 410 neither logs a
// delivery nor changes the endpoint; a disabled endpoint can be tested; a platform
// endpoint's test has a null company_id; other companies, unknown IDs and customers are
// refused without a request.
func TestWebhooksSendTest(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d, apptest.Options{Env: fastWebhooks})
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		var answer atomic.Int32
		answer.Store(200)
		rcv.Respond = func(webhooktest.Delivery, int) int {
			a := int(answer.Load())
			if a == 0 { // no answer within the timeout (1 s)
				time.Sleep(1500 * time.Millisecond)
				a = 200
			}
			return a
		}
		epID, secret := mustEndpoint(t, s, c.CompanyToken, rcv.URL, map[string]any{"eventTypes": []string{"RESOLUTION_CENTER_CASE_DECIDED"}})
		rcv.SetSecrets(secret)

		const sendTest = `mutation($id: ID!) { sendTestWebhook(input: {endpointId: $id}) {
  endpoint { id enabled failingSince } webhookId
  attempt { id success statusCode latencyMs responseExcerpt error }
  userErrors { code field message } } }`
		type result struct {
			SendTestWebhook struct {
				Endpoint *struct {
					ID           string
					Enabled      bool
					FailingSince *string
				}
				WebhookID *string
				Attempt   *struct {
					ID, ResponseExcerpt string
					Success             bool
					StatusCode          *int
					LatencyMs           int
					Error               *string
				}
				UserErrors []struct{ Code, Field, Message string }
			}
		}
		test := func(token, id string) result {
			t.Helper()
			var out result
			s.MustData(t, token, sendTest, map[string]any{"id": id}, &out)
			return out
		}
		// unchanged checks that the endpoint is as created: enabled, no run of failures,
		// no delivery logged.
		unchanged := func() {
			t.Helper()
			var ep struct {
				WebhookEndpoint struct {
					Enabled      bool
					FailingSince *string
					Deliveries   struct{ Nodes []struct{ ID string } }
				}
			}
			s.MustData(t, c.CompanyToken, `query($id: ID!) { webhookEndpoint(id: $id) { enabled failingSince deliveries { nodes { id } } } }`,
				map[string]any{"id": epID}, &ep)
			if e := ep.WebhookEndpoint; !e.Enabled || e.FailingSince != nil || len(e.Deliveries.Nodes) != 0 {
				t.Fatalf("the endpoint after a test: %+v", e)
			}
		}

		r := test(c.CompanyToken, epID).SendTestWebhook
		if len(r.UserErrors) > 0 || r.Endpoint == nil || r.Endpoint.ID != epID || r.WebhookID == nil || r.Attempt == nil {
			t.Fatalf("sendTestWebhook: %+v", r)
		}
		if a := r.Attempt; !a.Success || a.StatusCode == nil || *a.StatusCode != 200 || a.Error != nil ||
			a.ResponseExcerpt != "answered 200" || !strings.HasPrefix(a.ID, "watt_") {
			t.Fatalf("attempt: %+v", a)
		}
		got := rcv.All()
		if len(got) != 1 {
			t.Fatalf("%d requests, want 1", len(got))
		}
		g := got[0]
		if g.ID != *r.WebhookID || g.Type() != "webhook_endpoint.test" || g.Payload["company_id"] != c.Company.ID ||
			g.Data()["endpoint_id"] != epID {
			t.Fatalf("test request %s: %s", g.ID, g.Body)
		}
		rcv.CheckAll(t) // signature and schema
		unchanged()

		// A second test is a new request with a new webhook-id.
		if r2 := test(c.CompanyToken, epID).SendTestWebhook; r2.WebhookID == nil || *r2.WebhookID == *r.WebhookID || !r2.Attempt.Success {
			t.Fatalf("second test: %+v", r2)
		}
		for _, tc := range []struct {
			answer int
			status int
			err    string
		}{{500, 500, "status 500"}, {410, 410, "status 410"}, {0, 0, "no answer within 1s"}} {
			answer.Store(int32(tc.answer))
			r := test(c.CompanyToken, epID).SendTestWebhook
			a := r.Attempt
			if len(r.UserErrors) > 0 || a == nil || a.Success || a.Error == nil || *a.Error != tc.err ||
				(tc.status == 0) != (a.StatusCode == nil) || (a.StatusCode != nil && *a.StatusCode != tc.status) {
				t.Fatalf("answer %d: %+v %+v", tc.answer, r, a)
			}
			unchanged() // neither a failure run nor disabled by 410
		}
		answer.Store(200)
		time.Sleep(time.Second) // the timed-out request's answer
		rcv.CheckAll(t)

		// Refused: another company, an unknown endpoint, an ID of another kind, a
		// customer (NOT_FOUND), the company's read-only key (FORBIDDEN); nothing is sent.
		before := len(rcv.All())
		for _, tc := range []struct{ token, id, want string }{
			{c.OtherCompanyToken, epID, "NOT_FOUND"},
			{c.CompanyToken, ids.New(ids.WebhookEndpoint), "NOT_FOUND"},
			{c.CompanyToken, "biz_01es00mgjpkedt6qvzexa8af2t", "NOT_FOUND"},
			{c.CustomerToken, epID, "NOT_FOUND"},    // as any endpoint the caller does not manage
			{c.CompanyReadToken, epID, "FORBIDDEN"}, // a read-only key of the endpoint's company
		} {
			resp := s.Do(t, tc.token, sendTest, map[string]any{"id": tc.id})
			if !strings.Contains(string(resp.Raw), tc.want) || strings.Contains(string(resp.Raw), `"success"`) {
				t.Fatalf("sendTestWebhook(%s) refused as %s? %s", tc.id, tc.want, resp.Raw)
			}
		}
		if n := len(rcv.All()); n != before {
			t.Fatalf("refused tests sent %d requests", n-before)
		}

		// A disabled endpoint can be tested (before it is enabled again), and stays disabled.
		s.MustData(t, c.CompanyToken, `mutation($id: ID!) { disableWebhookEndpoint(input: {id: $id}) { endpoint { enabled } } }`,
			map[string]any{"id": epID}, nil)
		if r := test(c.CompanyToken, epID).SendTestWebhook; r.Attempt == nil || !r.Attempt.Success || r.Endpoint.Enabled {
			t.Fatalf("test of a disabled endpoint: %+v", r)
		}

		// A platform endpoint: company_id is null.
		platformID, platformSecret := mustEndpoint(t, s, c.PlatformToken, rcv.URL, map[string]any{"eventTypes": []string{"RESOLUTION_CENTER_CASE_DECIDED"}})
		rcv.SetSecrets(secret, platformSecret)
		pr := test(c.PlatformToken, platformID).SendTestWebhook
		if pr.Attempt == nil || !pr.Attempt.Success {
			t.Fatalf("platform endpoint test: %+v", pr)
		}
		all := rcv.All()
		last := all[len(all)-1]
		if cid, ok := last.Payload["company_id"]; !ok || cid != nil || last.Data()["endpoint_id"] != platformID {
			t.Fatalf("platform test request: %s", last.Body)
		}
		before = len(rcv.All())
		if resp := s.Do(t, c.CompanyToken, sendTest, map[string]any{"id": platformID}); !strings.Contains(string(resp.Raw), `"NOT_FOUND"`) {
			t.Fatalf("a merchant tested the platform's endpoint: %s", resp.Raw)
		}
		if n := len(rcv.All()); n != before {
			t.Fatal("a refused test sent a request")
		}
		rcv.CheckAll(t)
	})
}

// TestWebhookSchemaServed: the server serves the payload's JSON Schema at the path of
// its $id, byte for byte the committed file, and it compiles; a delivery validates
// against the served copy.
func TestWebhookSchemaServed(t *testing.T) {
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d, apptest.Options{})
	resp, err := http.Get(s.Base + "/webhooks/payload.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/schema+json" {
		t.Fatalf("GET the schema: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, webhook.PayloadSchema) {
		t.Fatal("the served schema differs from webhook/schema/payload.schema.json")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := doc.(map[string]any)["$id"].(string)
	if !strings.HasSuffix(id, "/webhooks/payload.schema.json") {
		t.Fatalf("$id %q is not the served path", id)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	test := []byte(`{"id":"msg_01m98cybg8z02fzv86q9gs402m","type":"webhook_endpoint.test","timestamp":"2026-12-07T14:01:24.744Z",
  "company_id":null,"data":{"endpoint_id":"whep_01m98cybfvhrk7h6v2p98gxsgg","message":"hi"}}`)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(test))
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("a test body: %v", err)
	}
	bad := bytes.Replace(test, []byte(`"company_id":null`), []byte(`"company_id":7`), 1)
	inst, _ = jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if sch.Validate(inst) == nil {
		t.Fatal("a body with a numeric company_id validated")
	}
}

// TestWebhooksOffWithoutKey: outside development mode and without WEBHOOK_SECRET_KEY,
// webhooks are off and say so: the server warns at start, and creating an endpoint or
// testing one (stored earlier, under a key) is UNAVAILABLE, naming the setting, with
// nothing sent.
func TestWebhooksOffWithoutKey(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d, apptest.Options{Env: map[string]string{"DEV_MODE": "false", "WEBHOOK_SECRET_KEY": ""}})
		c := dbtest.MustCast(t, d)
		if out := s.Out.String(); !strings.Contains(out, "webhooks are off: WEBHOOK_SECRET_KEY is not set") {
			t.Errorf("no warning at start:\n%s", out)
		}
		r := s.Do(t, c.CompanyToken, createEndpointMutation, map[string]any{"in": map[string]any{"url": "https://example.com/hooks"}})
		if !strings.Contains(string(r.Raw), "UNAVAILABLE") || !strings.Contains(string(r.Raw), "WEBHOOK_SECRET_KEY") {
			t.Errorf("createWebhookEndpoint without a key: %s", r.Raw)
		}
		rcv := webhooktest.Start(t)
		ep, err := d.CreateWebhookEndpoint(t.Context(), db.WebhookEndpoint{CompanyID: c.Company.ID, URL: rcv.URL,
			SecretEnc: "sealed under another key", CreatedAt: dbtest.Now(), UpdatedAt: dbtest.Now()}, 0)
		if err != nil {
			t.Fatal(err)
		}
		r = s.Do(t, c.CompanyToken, `mutation($id: ID!) { sendTestWebhook(input: {endpointId: $id}) { attempt { success } userErrors { code } } }`,
			map[string]any{"id": ep.ID})
		if !strings.Contains(string(r.Raw), "UNAVAILABLE") || !strings.Contains(string(r.Raw), "WEBHOOK_SECRET_KEY") {
			t.Errorf("sendTestWebhook without a key: %s", r.Raw)
		}
		if n := len(rcv.All()); n != 0 {
			t.Errorf("%d requests sent without a key", n)
		}
	})
}

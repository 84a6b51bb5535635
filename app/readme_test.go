package app_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// readmeBlock returns the fenced code block that follows "<!-- readme-test: name -->"
// in README.md.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- readme-test: " + regexp.QuoteMeta(name) + " -->\n```[a-z]*\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatalf("README.md has no block %q", name)
	}
	return string(m[1])
}

// README's trusted-documents example: its manifest, loaded with PERSISTED_ONLY, and its
// curl command, run as written against the server.
func TestReadmeTrustedDocuments(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	manifest := filepath.Join(t.TempDir(), "persisted-documents.json")
	if err := os.WriteFile(manifest, []byte(readmeBlock(t, "trusted-manifest")), 0o600); err != nil {
		t.Fatal(err)
	}
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d, apptest.Options{Env: map[string]string{"PERSISTED_DOCUMENTS": manifest, "PERSISTED_ONLY": "true"}})
	cast := dbtest.MustCast(t, d)
	opened := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())

	cmd := exec.CommandContext(t.Context(), "sh", "-c", strings.ReplaceAll(readmeBlock(t, "trusted-request"), "http://localhost:8080", s.Base))
	cmd.Env = append(os.Environ(), "TOKEN="+cast.CustomerToken, "CASE_ID="+opened.Case.ID)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's curl command: %v\n%s", err, out)
	}
	var resp struct {
		Data struct {
			Resolution struct{ ID, Status string }
		}
		Errors []any
	}
	if json.Unmarshal(out, &resp) != nil || len(resp.Errors) > 0 || resp.Data.Resolution.ID != opened.Case.ID {
		t.Fatalf("the README's curl command answered %s", out)
	}
	// The same server refuses a free-form query, as the README says.
	if r := s.Do(t, cast.CustomerToken, `{ viewer { role } }`, nil); r.FirstCode() != "PERSISTED_QUERY_NOT_ALLOWED" {
		t.Errorf("free-form under PERSISTED_ONLY: %s %+v", r.Data, r.Errors)
	}
}

// README quotes a refusal's message with enum names: the server says exactly that.
func TestReadmeRefusalMessage(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("`(CUSTOMER may not DENY while the case is UNDER_PLATFORM_REVIEW;[^`]*)`").FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md no longer quotes the refusal message")
	}
	want := strings.Join(strings.Fields(string(m[1])), " ")

	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d)
	cast := dbtest.MustCast(t, d)
	id := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
	const act = `mutation($id: ID!) { %s(input: {resolutionId: $id, message: "x"}) { userErrors { code message } } }`
	run := func(token, op string) []struct{ Code, Message string } {
		t.Helper()
		var out map[string]struct {
			UserErrors []struct{ Code, Message string }
		}
		s.MustData(t, token, strings.Replace(act, "%s", op, 1), map[string]any{"id": id}, &out)
		return out[op].UserErrors
	}
	if ue := run(apptest.PlatformToken, "requestMerchantInfo"); len(ue) > 0 {
		t.Fatal(ue)
	}
	if ue := run(cast.CompanyToken, "respondToResolution"); len(ue) > 0 { // now UNDER_PLATFORM_REVIEW
		t.Fatal(ue)
	}
	// A customer cannot deny; the schema's DenyResolutionInput takes the same fields.
	ue := run(cast.CustomerToken, "denyResolution")
	if len(ue) != 1 || ue[0].Code != "ACTION_NOT_ALLOWED" || ue[0].Message != want {
		t.Errorf("refusal %+v, want ACTION_NOT_ALLOWED %q", ue, want)
	}
}

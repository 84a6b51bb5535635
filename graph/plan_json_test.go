package graph

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// TestWriterStringMatchesGqlgen holds the planned writer's strings to gqlgen's
// MarshalString byte for byte: every byte value, in every position, valid UTF-8 or not.
func TestWriterStringMatchesGqlgen(t *testing.T) {
	inputs := []string{"", "plain", `"`, `\`, "\n\r\t\b\f\x00\x01\x1f\x7f", "café 日本語 🎉", "\u2028\u2029", "<>&'",
		"\xff\xfe\xc3", "a\"b\\c\nd"}
	for c := range 256 {
		inputs = append(inputs, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rnd.IntN(40))
		for i := range b {
			b[i] = byte(rnd.IntN(256))
		}
		inputs = append(inputs, string(b))
	}
	for _, s := range inputs {
		var want bytes.Buffer
		graphql.MarshalString(s).MarshalGQL(&want)
		var w writer
		w.str(s)
		if string(w.buf) != want.String() {
			t.Fatalf("str(%q) = %q, gqlgen writes %q", s, w.buf, want.String())
		}
	}
}

// TestEnumEncodings holds the writer's enum tables (wire name in lower case) to the
// maps gqlgen generated from gqlgen.yml's bindings.
func TestEnumEncodings(t *testing.T) {
	rs := newReadSchema(NewExecutableSchema(Config{}).Schema())
	check := func(name string, table map[string][]byte, generated map[string]string) {
		t.Helper()
		if len(table) != len(generated) {
			t.Errorf("%s: %d values, gqlgen has %d", name, len(table), len(generated))
		}
		for wire, gql := range generated {
			if got := string(table[wire]); got != `"`+gql+`"` {
				t.Errorf("%s %q: writes %s, gqlgen %q", name, wire, got, gql)
			}
		}
	}
	check("ResolutionStatus", rs.status, stringMap(marshalNResolutionStatus2resolutioncenterᚋdisputeᚐStatus))
	check("ResolutionIssue", rs.issue, stringMap(marshalNResolutionIssue2resolutioncenterᚋdisputeᚐIssue))
	check("CustomerAction", rs.customerAction, stringMap(marshalNCustomerAction2resolutioncenterᚋdisputeᚐAction))
	check("MerchantAction", rs.merchantAction, stringMap(marshalNMerchantAction2resolutioncenterᚋdisputeᚐAction))
	check("PlatformAction", rs.platformAction, stringMap(marshalNPlatformAction2resolutioncenterᚋdisputeᚐAction))
	check("ResolutionAction", rs.action, stringMap(marshalNResolutionAction2resolutioncenterᚋdisputeᚐAction))
	check("ResolutionEventAction", rs.eventAction, stringMap(marshalNResolutionEventAction2resolutioncenterᚋdisputeᚐEventAction))
	check("ReporterType", rs.reporter, stringMap(marshalNReporterType2resolutioncenterᚋdisputeᚐActor))
	check("ResolutionOutcome", rs.outcome, stringMap(marshalNResolutionOutcome2resolutioncenterᚋdisputeᚐOutcome))
	check("ResolutionRefund", rs.refund, stringMap(marshalOResolutionRefund2ᚖresolutioncenterᚋdisputeᚐRefund))
}

func stringMap[K ~string](m map[K]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

package graph

import (
	"testing"

	"resolutioncenter/dispute"
)

// Every domain code that userErrors puts in a payload is a value of the UserErrorCode
// enum, and every other code is a top-level error: a code outside the enum would
// marshal as an empty string.
func TestUserErrorCodesAreTheEnum(t *testing.T) {
	enum := marshalNUserErrorCode2resolutioncenterᚋdisputeᚐCode
	inPayload := 0
	for _, c := range dispute.Codes {
		ue, err := userErrors(&dispute.Error{Code: c, Message: "x"})
		if err != nil {
			if _, ok := enum[c]; ok {
				t.Errorf("%s is in UserErrorCode but userErrors returns it as a top-level error", c)
			}
			continue
		}
		inPayload++
		if name, ok := enum[ue[0].Code]; !ok || name != string(c) {
			t.Errorf("userErrors puts %s in a payload, but UserErrorCode has no such value", c)
		}
	}
	if inPayload != len(enum) {
		t.Errorf("%d codes reach payloads, UserErrorCode has %d values", inPayload, len(enum))
	}
}

package main

import "testing"

func TestCheckBody(t *testing.T) {
	ok := []string{
		`{"data":{"resolutions":{"edges":[]}}}`,
		`{"data":{"respondToResolution":{"resolution":{"id":"reso_1"},"userErrors":[]}}}`,
		`{"data":{"resolution":{"details":"the \"errors\" word in user text"}}}`,
	}
	for _, b := range ok {
		if err := checkBody([]byte(b)); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
	bad := []string{
		`{"errors":[{"message":"rate limited","extensions":{"code":"RATE_LIMITED"}}],"data":null}`,
		`{"data":{"respondToResolution":{"resolution":null,"userErrors":[{"code":"ACTION_NOT_ALLOWED","message":"no"}]}}}`,
		`not json "errors"`,
	}
	for _, b := range bad {
		if err := checkBody([]byte(b)); err == nil {
			t.Errorf("%s: no error", b)
		}
	}
}

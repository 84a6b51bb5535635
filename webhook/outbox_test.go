package webhook

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestJobArgsEncoding: a job's deliveries travel as one string (few entries in River's
// GIN index of args), read back as written; jobs an earlier build wrote (an array of
// objects) still read; malformed strings are refused.
func TestJobArgsEncoding(t *testing.T) {
	args := deliverArgs{CaseID: "reso_1", Position: 7, Deliveries: jobDeliveries{
		{ID: "msg_a", EndpointID: "whep_1", Ordinal: 0}, {ID: "msg_b", EndpointID: "whep_2", Ordinal: 0},
		{ID: "msg_c", EndpointID: "whep_1", Ordinal: 1}}, TraceHeader: map[string]string{"traceparent": "00-x-y-01"}}
	b, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"case_id":"reso_1","position":7,"deliveries":"msg_a whep_1 0,msg_b whep_2 0,msg_c whep_1 1","trace":{"traceparent":"00-x-y-01"}}`
	if string(b) != want {
		t.Fatalf("args:\n%s\nwant\n%s", b, want)
	}
	var back deliverArgs
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, args) {
		t.Fatalf("read back %+v %v, want %+v", back, err, args)
	}
	old := `{"case_id":"reso_1","position":7,"deliveries":[{"id":"msg_a","endpoint_id":"whep_1","ordinal":0},` +
		`{"id":"msg_b","endpoint_id":"whep_2","ordinal":0},{"id":"msg_c","endpoint_id":"whep_1","ordinal":1}],"trace":{"traceparent":"00-x-y-01"}}`
	back = deliverArgs{}
	if err := json.Unmarshal([]byte(old), &back); err != nil || !reflect.DeepEqual(back, args) {
		t.Fatalf("the earlier format read as %+v %v", back, err)
	}
	var none deliverArgs
	if err := json.Unmarshal([]byte(`{"case_id":"reso_1","position":1,"deliveries":""}`), &none); err != nil || len(none.Deliveries) != 0 {
		t.Fatalf("no deliveries: %+v %v", none, err)
	}
	for _, bad := range []string{`"msg_a whep_1"`, `"msg_a whep_1 x"`, `"msg_a whep_1 0,"`, `7`} {
		var l jobDeliveries
		if err := json.Unmarshal([]byte(bad), &l); err == nil {
			t.Errorf("%s read as %+v, want an error", bad, l)
		}
	}
}

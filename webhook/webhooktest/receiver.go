// Package webhooktest is a webhook receiver for tests: an HTTP server on loopback that
// records every delivery, verifies its Standard Webhooks signature with an
// implementation of its own (written from the specification, sharing no code with
// package webhook), validates its body against the committed JSON Schema, and notes
// whether one webhook-id was ever being received twice at the same time.
//
// webhooktest imports webhook (for the schema file only).
package webhooktest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"resolutioncenter/webhook"
)

// Delivery is one request the receiver got.
type Delivery struct {
	ID, Timestamp, Signature string
	Body                     []byte
	Payload                  map[string]any
	At                       time.Time
	// Status is what the receiver answered.
	Status int
	// Problems lists what was wrong with it: signature, schema, id mismatch.
	Problems []string
}

// Type is the payload's type.
func (d Delivery) Type() string { s, _ := d.Payload["type"].(string); return s }

// CaseID is the payload's data.id.
func (d Delivery) CaseID() string {
	data, _ := d.Payload["data"].(map[string]any)
	s, _ := data["id"].(string)
	return s
}

// Data is the payload's data.
func (d Delivery) Data() map[string]any { m, _ := d.Payload["data"].(map[string]any); return m }

// Receiver records deliveries. Respond decides each answer (default 200); it may
// block (a slow receiver).
type Receiver struct {
	URL string
	// Respond returns the status for the n-th request (1-based) of a webhook-id.
	Respond func(d Delivery, n int) int

	tb      testing.TB
	srv     *http.Server
	ln      net.Listener
	schema  *jsonschema.Schema
	mu      sync.Mutex
	secrets []string
	all     []Delivery
	tries   map[string]int
	active  map[string]int
	overlap []string
	wake    chan struct{}
}

// Start starts a receiver on a free loopback port verifying with secrets (more may be
// added with SetSecrets).
func Start(tb testing.TB) *Receiver {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return Serve(tb, ln)
}

// Serve is Start on a listener of the caller's (e.g. on a port chosen before),
// verifying with secrets from its first request: a sender retrying on that port may
// send at once, before a SetSecrets after Serve.
func Serve(tb testing.TB, ln net.Listener, secrets ...string) *Receiver {
	tb.Helper()
	r := &Receiver{URL: "http://" + ln.Addr().String() + "/hook", tb: tb, ln: ln, schema: MustSchema(tb),
		tries: map[string]int{}, active: map[string]int{}, wake: make(chan struct{}, 1), secrets: secrets}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln) //nolint:errcheck
	tb.Cleanup(r.Close)
	return r
}

// Close stops the receiver (idempotent).
func (r *Receiver) Close() { _ = r.srv.Close() }

// SetSecrets sets the secrets signatures may verify with: a delivery is accepted
// when every v1 entry verifies with one of them... at least one, as the
// specification asks; AllSigned tells whether each secret produced an entry.
func (r *Receiver) SetSecrets(s ...string) {
	r.mu.Lock()
	r.secrets = s
	r.mu.Unlock()
}

// MustSchema compiles the committed payload schema.
func MustSchema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(webhook.PayloadSchema))
	if err != nil {
		tb.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("payload.schema.json", doc); err != nil {
		tb.Fatal(err)
	}
	s, err := c.Compile("payload.schema.json")
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	d := Delivery{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signature: req.Header.Get("webhook-signature"), Body: body, At: time.Now()}
	r.mu.Lock()
	secrets := r.secrets
	r.tries[d.ID]++
	n := r.tries[d.ID]
	r.active[d.ID]++
	if r.active[d.ID] > 1 {
		r.overlap = append(r.overlap, d.ID)
	}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.active[d.ID]--
		r.mu.Unlock()
	}()
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		d.Problems = append(d.Problems, "not a JSON POST")
	}
	if err := Verify(secrets, d.ID, d.Timestamp, d.Signature, body, time.Now()); err != nil {
		d.Problems = append(d.Problems, "signature: "+err.Error())
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		d.Problems = append(d.Problems, "body: "+err.Error())
	} else if err := r.schema.Validate(inst); err != nil {
		d.Problems = append(d.Problems, "schema: "+err.Error())
	}
	_ = json.Unmarshal(body, &d.Payload)
	if id, _ := d.Payload["id"].(string); id != d.ID {
		d.Problems = append(d.Problems, fmt.Sprintf("payload id %q differs from webhook-id %q", id, d.ID))
	}
	d.Status = http.StatusOK
	if r.Respond != nil {
		d.Status = r.Respond(d, n)
	}
	r.mu.Lock()
	r.all = append(r.all, d)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	w.WriteHeader(d.Status)
	fmt.Fprintf(w, "answered %d", d.Status)
}

// All returns every request so far, in arrival order.
func (r *Receiver) All() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.all...)
}

// Accepted returns the requests answered 2xx, in arrival order.
func (r *Receiver) Accepted() []Delivery {
	var out []Delivery
	for _, d := range r.All() {
		if d.Status >= 200 && d.Status < 300 {
			out = append(out, d)
		}
	}
	return out
}

// Overlaps returns the webhook-ids that were being received twice at once.
func (r *Receiver) Overlaps() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.overlap...)
}

// WaitAccepted waits until n requests were answered 2xx, or fails the test.
func (r *Receiver) WaitAccepted(tb testing.TB, n int, timeout time.Duration) []Delivery {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		if got := r.Accepted(); len(got) >= n {
			return got
		}
		select {
		case <-r.wake:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			tb.Fatalf("webhooktest: %d deliveries accepted after %s, want %d", len(r.Accepted()), timeout, n)
		}
	}
}

// CheckAll fails the test for every request with a problem.
func (r *Receiver) CheckAll(tb testing.TB) {
	tb.Helper()
	for _, d := range r.All() {
		for _, p := range d.Problems {
			tb.Errorf("delivery %s (%s): %s", d.ID, d.Type(), p)
		}
	}
}

// Tolerance is how far a webhook-timestamp may be from the receiver's clock.
const Tolerance = 5 * time.Minute

// Verify checks a Standard Webhooks signature header, as the specification describes
// it: the signed content is "<webhook-id>.<webhook-timestamp>.<body>", the key is the
// base64 decoding of the secret after "whsec_", the signature is HMAC-SHA256 in
// base64, the header holds space-separated "v1,<signature>" entries of which one must
// match, and the timestamp must be within Tolerance of now.
func Verify(secrets []string, id, timestamp, header string, body []byte, now time.Time) error {
	if id == "" || timestamp == "" || header == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("timestamp is not Unix seconds")
	}
	if math.Abs(float64(now.Unix()-sec)) > Tolerance.Seconds() {
		return errors.New("timestamp too far from now")
	}
	content := id + "." + timestamp + "." + string(body)
	for _, entry := range strings.Split(header, " ") {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		for _, s := range secrets {
			key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
			if err != nil {
				return fmt.Errorf("bad secret: %v", err)
			}
			m := hmac.New(sha256.New, key)
			m.Write([]byte(content))
			if hmac.Equal(m.Sum(nil), got) {
				return nil
			}
		}
	}
	return errors.New("no v1 signature matches")
}

// Entries returns the v1 entries of a signature header.
func Entries(header string) []string {
	var out []string
	for _, e := range strings.Split(header, " ") {
		if strings.HasPrefix(e, "v1,") {
			out = append(out, e)
		}
	}
	return out
}

package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks (https://www.standardwebhooks.com): every request carries
//
//	webhook-id:        the delivery's ID, the same on every retry (receivers dedupe by it)
//	webhook-timestamp: Unix seconds when this attempt was signed
//	webhook-signature: "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>"
//
// where key is the base64-decoded part of the secret after "whsec_". After a rotation
// the header lists a signature by each live secret, separated by a space.

// secretPrefix marks a Standard Webhooks signing secret.
const secretPrefix = "whsec_"

// secretBytes is the length of a signing key: 24 random bytes (192 bits), as Svix and
// the Standard Webhooks reference libraries generate.
const secretBytes = 24

// NewSecret returns a fresh signing secret, "whsec_" + base64 of 24 random bytes.
func NewSecret() string {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a "whsec_" secret into its HMAC key.
func secretKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errors.New("webhook: a secret starts with whsec_")
	}
	return base64.StdEncoding.DecodeString(rest)
}

// Sign returns the "v1,<signature>" entries for a message, one per secret, joined by
// spaces: the webhook-signature header.
func Sign(secrets []string, id string, at time.Time, body []byte) (string, error) {
	parts := make([]string, 0, len(secrets))
	stamp := strconv.FormatInt(at.Unix(), 10)
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return "", err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(stamp))
		mac.Write([]byte{'.'})
		mac.Write(body)
		parts = append(parts, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(parts, " "), nil
}

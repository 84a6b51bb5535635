package webhook

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Signing secrets are stored encrypted, not hashed: the server needs each secret in
// clear whenever it signs a delivery, so a one-way hash (right for API tokens, which
// are only ever verified) cannot serve. They are sealed with AES-256-GCM (the standard
// library's authenticated encryption) under WEBHOOK_SECRET_KEY, which lives in the
// configuration, outside the database: a copy of the database alone reveals no secret.

// keyVersion prefixes every sealed secret, so that a later key rotation can tell keys apart.
const keyVersion = "v1:"

// Sealer encrypts and decrypts signing secrets with one AES-256-GCM key.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer makes a Sealer from a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("webhook: the secret key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// ParseKey decodes WEBHOOK_SECRET_KEY: 32 bytes in base64 (standard or URL alphabet)
// or 64 hex digits.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("want 32 bytes as base64 (e.g. `openssl rand -base64 32`) or 64 hex digits")
}

// Seal encrypts a secret; the result is "v1:" + base64(nonce || ciphertext).
func (s *Sealer) Seal(plain string) string {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(plain), []byte(keyVersion))
	return keyVersion + base64.StdEncoding.EncodeToString(out)
}

// Open decrypts what Seal produced.
func (s *Sealer) Open(sealed string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, keyVersion)
	if !ok {
		return "", errors.New("webhook: unknown secret encoding")
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errors.New("webhook: malformed sealed secret")
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(keyVersion))
	if err != nil {
		return "", errors.New("webhook: cannot decrypt a signing secret: WEBHOOK_SECRET_KEY differs from the key it was stored with")
	}
	return string(plain), nil
}

// DevKey returns the development key stored in path, creating it (0600) with a fresh
// random key when missing. Only development mode uses it; production sets
// WEBHOOK_SECRET_KEY.
func DevKey(path string) (key []byte, created bool, err error) {
	if b, err := os.ReadFile(path); err == nil {
		k, err := ParseKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("webhook: %s: %w", path, err)
		}
		return k, false, nil
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

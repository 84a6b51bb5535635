package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"resolutioncenter/ids"
)

// TokenKind is the kind of principal a token belongs to.
type TokenKind string

// The token kinds.
const (
	TokenUser     TokenKind = "user"
	TokenCompany  TokenKind = "company"
	TokenPlatform TokenKind = "platform"
)

// Token is a stored API token, without its secret.
type Token struct {
	ID        string
	Kind      TokenKind
	UserID    string
	CompanyID string
	Scopes    []string
	Label     string
	CreatedAt time.Time
}

// tokenPrefix makes tokens recognisable to secret scanners.
const tokenPrefix = "rc_"

// HashToken returns the stored form of a clear-text token: hex SHA-256. Tokens are 256
// random bits, so a fast hash is enough (no password stretching needed).
func HashToken(clear string) string {
	sum := sha256.Sum256([]byte(clear))
	return hex.EncodeToString(sum[:])
}

// NewTokenSecret returns a fresh clear-text token.
func NewTokenSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// CreateToken stores a new token and returns it with its clear text, which is never
// stored and cannot be recovered.
func (d *DB) CreateToken(ctx context.Context, t Token, now time.Time) (Token, string, error) {
	r, clear := newTokenRow(t, now)
	if err := insert(ctx, d, &r, ""); err != nil {
		return Token{}, "", err
	}
	t.ID, t.CreatedAt = r.ID, now
	return t, clear, nil
}

// newTokenRow makes the row of a new token with a fresh secret, returned in clear.
func newTokenRow(t Token, now time.Time) (tokenRow, string) {
	clear := NewTokenSecret()
	return tokenRow{ID: ids.New(ids.Token), Hash: HashToken(clear), Kind: string(t.Kind), UserID: t.UserID,
		CompanyID: t.CompanyID, Scopes: strings.Join(t.Scopes, ","), Label: t.Label, CreatedAt: now}, clear
}

// LookupToken finds the live token whose clear text is given; NOT_FOUND otherwise.
func (d *DB) LookupToken(ctx context.Context, clear string) (Token, error) {
	var r tokenRow
	err := d.bun.NewSelect().Model(&r).Where("hash = ?", HashToken(clear)).Where("revoked_at IS NULL").Limit(1).Scan(ctx)
	if err != nil {
		return Token{}, mapErr(err)
	}
	return Token{ID: r.ID, Kind: TokenKind(r.Kind), UserID: r.UserID, CompanyID: r.CompanyID,
		Scopes: splitScopes(r.Scopes), Label: r.Label, CreatedAt: r.CreatedAt.UTC()}, nil
}

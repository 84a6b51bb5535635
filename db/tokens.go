package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/uptrace/bun"

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
func CreateToken(ctx context.Context, idb bun.IDB, t Token, now time.Time) (Token, string, error) {
	clear := NewTokenSecret()
	t.ID = ids.New(ids.Token)
	t.CreatedAt = now
	r := tokenRow{ID: t.ID, Hash: HashToken(clear), Kind: string(t.Kind), UserID: ptr(t.UserID),
		CompanyID: ptr(t.CompanyID), Scopes: joinScopes(t.Scopes), Label: ptr(t.Label), CreatedAt: now}
	if _, err := idb.NewInsert().Model(&r).Exec(ctx); err != nil {
		return Token{}, "", mapErr(err)
	}
	return t, clear, nil
}

// LookupToken finds the live token whose clear text is given; NOT_FOUND otherwise.
func LookupToken(ctx context.Context, idb bun.IDB, clear string) (Token, error) {
	var r tokenRow
	err := idb.NewSelect().Model(&r).Where("hash = ?", HashToken(clear)).Where("revoked_at IS NULL").Limit(1).Scan(ctx)
	if err != nil {
		return Token{}, mapErr(err)
	}
	return Token{ID: r.ID, Kind: TokenKind(r.Kind), UserID: deref(r.UserID), CompanyID: deref(r.CompanyID),
		Scopes: splitScopes(r.Scopes), Label: deref(r.Label), CreatedAt: r.CreatedAt.UTC()}, nil
}

func joinScopes(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}

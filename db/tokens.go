package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
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
	RevokedAt time.Time // zero while the token works
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
	if d.Engine == Postgres {
		return d.pgLookupTokenHash(ctx, HashToken(clear))
	}
	var r tokenRow
	err := d.bun.NewSelect().Model(&r).Where("hash = ?", HashToken(clear)).Where("revoked_at IS NULL").Limit(1).Scan(ctx)
	if err != nil {
		return Token{}, mapErr(err)
	}
	return toToken(r), nil
}

// LookupTokenHash finds the live token whose stored hash is given (HashToken of its
// clear text); NOT_FOUND otherwise. A WebSocket re-checks its token by hash before
// each operation, without keeping the clear text.
func (d *DB) LookupTokenHash(ctx context.Context, hash string) (Token, error) {
	if d.Engine == Postgres {
		return d.pgLookupTokenHash(ctx, hash)
	}
	var r tokenRow
	err := d.bun.NewSelect().Model(&r).Where("hash = ?", hash).Where("revoked_at IS NULL").Limit(1).Scan(ctx)
	if err != nil {
		return Token{}, mapErr(err)
	}
	return toToken(r), nil
}

func toToken(r tokenRow) Token {
	return Token{ID: r.ID, Kind: TokenKind(r.Kind), UserID: r.UserID, CompanyID: r.CompanyID,
		Scopes: splitScopes(r.Scopes), Label: r.Label, CreatedAt: r.CreatedAt.UTC(), RevokedAt: utcOrZero(r.RevokedAt)}
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// TokenOwner narrows token reads and revocation to one principal's tokens: a user's, a
// company's, or (All) every token, for the platform.
type TokenOwner struct {
	All       bool
	UserID    string
	CompanyID string
}

func (o TokenOwner) apply(q *bun.SelectQuery) *bun.SelectQuery {
	switch {
	case o.All:
		return q
	case o.UserID != "":
		return q.Where("kind = ?", string(TokenUser)).Where("user_id = ?", o.UserID)
	case o.CompanyID != "":
		return q.Where("kind = ?", string(TokenCompany)).Where("company_id = ?", o.CompanyID)
	}
	return q.Where("1 = 0")
}

// TokenFilter selects tokens to list.
type TokenFilter struct {
	UserID         string
	CompanyID      string
	IncludeRevoked bool
	After          string // list tokens with an ID before this one (newest first)
	Limit          int
}

// ListTokens returns the owner's tokens matching f, newest first (IDs sort by creation
// time), at most f.Limit.
func (d *DB) ListTokens(ctx context.Context, owner TokenOwner, f TokenFilter) ([]Token, error) {
	var rows []tokenRow
	q := owner.apply(d.bun.NewSelect().Model(&rows))
	if f.UserID != "" {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.CompanyID != "" {
		q = q.Where("company_id = ?", f.CompanyID)
	}
	if !f.IncludeRevoked {
		q = q.Where("revoked_at IS NULL")
	}
	if f.After != "" {
		q = q.Where("id < ?", f.After)
	}
	if err := q.Order("id DESC").Limit(int64(f.Limit)).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	out := make([]Token, len(rows))
	for i, r := range rows {
		out[i] = toToken(r)
	}
	return out, nil
}

// RevokeToken revokes one of the owner's tokens: it stops working at once in this
// process and, through the change feed, in every other (see WatchRevocations). A token
// of another owner, or none, is NOT_FOUND; revoking twice keeps the first time.
func (d *DB) RevokeToken(ctx context.Context, owner TokenOwner, id string, now time.Time) (Token, error) {
	var r tokenRow
	fresh := false
	err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		q := owner.apply(tx.NewSelect().Model(&r).Where("id = ?", id))
		if d.Engine == Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return err
		}
		if !r.RevokedAt.IsZero() {
			return nil
		}
		r.RevokedAt, fresh = now.UTC().Truncate(time.Millisecond), true
		if _, err := tx.NewUpdate().Model(&r).Column("revoked_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		return d.announceRevocation(ctx, tx, r.ID)
	})
	if err != nil {
		if dispute.CodeOf(err) == dispute.CodeNotFound {
			return Token{}, dispute.NotFound("no such token")
		}
		return Token{}, err
	}
	if fresh {
		d.revocationCommitted(r.ID)
	}
	return toToken(r), nil
}

// RevokedTokens returns which of the token IDs are revoked (or gone): for re-checking
// open connections after revocation notices may have been missed.
func (d *DB) RevokedTokens(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var live []string
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(len(ids), start+1000)]
		var got []string
		err := d.bun.NewSelect().Model((*tokenRow)(nil)).Column("id").Where("id IN (?)", bun.List(chunk)).
			Where("revoked_at IS NULL").Scan(ctx, &got)
		if err != nil {
			return nil, mapErr(err)
		}
		live = append(live, got...)
	}
	alive := make(map[string]bool, len(live))
	for _, id := range live {
		alive[id] = true
	}
	var out []string
	for _, id := range ids {
		if !alive[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

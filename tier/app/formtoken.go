package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// The create form carries a form_token: the time the form was served and a
// nonce, signed with a key derived from the secret every app instance
// shares, so that any instance can check a form another one served. A post
// sooner than app.form_min_age after the form was served is a bot (people
// take seconds to write; bots post the moment they have the page), and one
// later than app.form_max_age is a page left open for days or a token
// harvested to be replayed. No instance remembers the tokens it issued: a
// token reused within its ages is bounded by the write limit, and a resend
// of one post by its idempotency key. The JSON API has no form and no
// token; the write limit guards it.
const labelFormToken = "guestbook form token v1"

// Sizes of a token's parts: issue time in Unix milliseconds, nonce, MAC
// (HMAC-SHA256 cut to 128 bits, far more than a guess can reach).
const (
	tokenTimeSize  = 8
	tokenNonceSize = 12
	tokenMACSize   = 16
	tokenSize      = tokenTimeSize + tokenNonceSize + tokenMACSize
)

// formRefusal is why a create form's post is refused before any field is
// looked at: its reason is the metrics label and picks the message.
type formRefusal string

const (
	refusedTokenMissing formRefusal = "token_missing"
	refusedTokenForged  formRefusal = "token_forged"
	refusedTooSoon      formRefusal = "too_soon"
	refusedExpired      formRefusal = "token_expired"
)

func (r formRefusal) Error() string { return "create form refused: " + string(r) }

// formTokens issues and checks form tokens.
type formTokens struct {
	key            []byte
	minAge, maxAge time.Duration
	now            func() time.Time
}

func newFormTokens(secret []byte, minAge, maxAge time.Duration, now func() time.Time) formTokens {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(labelFormToken))
	return formTokens{key: m.Sum(nil), minAge: minAge, maxAge: maxAge, now: now}
}

// issue is a new token, made now.
func (f formTokens) issue() string {
	b := make([]byte, tokenSize)
	binary.BigEndian.PutUint64(b, uint64(f.now().UnixMilli()))
	copy(b[tokenTimeSize:], randomBytes(tokenNonceSize))
	copy(b[tokenTimeSize+tokenNonceSize:], f.mac(b[:tokenTimeSize+tokenNonceSize]))
	return base64.RawURLEncoding.EncodeToString(b)
}

// check says why token may not be posted now, or nil when it may.
func (f formTokens) check(token string) error {
	if token == "" {
		return refusedTokenMissing
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != tokenSize {
		return refusedTokenForged
	}
	signed := b[:tokenTimeSize+tokenNonceSize]
	if !hmac.Equal(b[tokenTimeSize+tokenNonceSize:], f.mac(signed)) {
		return refusedTokenForged
	}
	issued := time.UnixMilli(int64(binary.BigEndian.Uint64(b)))
	// Another instance's clock may be a little ahead of this one's: a
	// token from the future is as old as nothing, not forged.
	age := max(f.now().Sub(issued), 0)
	switch {
	case age < f.minAge:
		return refusedTooSoon
	case age > f.maxAge:
		return refusedExpired
	}
	return nil
}

func (f formTokens) mac(b []byte) []byte {
	m := hmac.New(sha256.New, f.key)
	m.Write(b)
	return m.Sum(nil)[:tokenMACSize]
}

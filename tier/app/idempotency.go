package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/guestbook/guestbook/store"
)

// Writes that are safe to resend: a create may carry an idempotency key (the
// form's hidden field, the API's header). The first create with a key stores
// the entry; a resend with the key and the same request stores nothing and
// answers as the first did; another request with the key is refused (422);
// a create whose key is in flight on this instance is refused (409, the API)
// or waited for (the form). The database's unique index on the key makes the
// guarantee hold across instances.

const (
	// keyField is the create form's hidden field.
	keyField = "idempotency_key"
	// keyHeaderName is the API's request header (the IETF httpapi draft's).
	keyHeaderName = "Idempotency-Key"
	// replayedHeader marks an API answer that a resend got: the entry was
	// stored by an earlier request with the key.
	replayedHeader = "Idempotent-Replayed"
)

// The scopes of store.Keyed: a draft sent by the form and the same draft
// sent by the API are different requests.
const (
	scopeForm = "form"
	scopeAPI  = "api"
)

// The labels of derivedSecret, one per kind of secret.
const (
	labelDeleteToken  = "guestbook delete token v1"
	labelAuthorSecret = "guestbook author secret v1"
)

// formWait is how long a form create waits for another create with its key
// (a double click) to finish before answering 409.
const formWait = 5 * time.Second

var errKeyInFlight = errors.New("a create with this idempotency key is in flight")

// keyFromForm is the form's idempotency_key: "" when the form has none (an
// old page), badRequest when it has one that is not a key.
func keyFromForm(form url.Values) (string, error) {
	vs, ok := form[keyField]
	if !ok {
		return "", nil
	}
	if len(vs) != 1 || !store.ValidKey(vs[0]) {
		return "", badRequest{keyField + " must be one value of 1 to 64 letters, digits, - or _"}
	}
	return vs[0], nil
}

// keyFromHeader is the Idempotency-Key header: "" when absent, badRequest
// when it is not a key. The draft makes it a structured-field string, so a
// value in double quotes is taken without them.
func keyFromHeader(h http.Header) (string, error) {
	vs := h.Values(keyHeaderName)
	if len(vs) == 0 {
		return "", nil
	}
	v := strings.TrimSpace(vs[0])
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if len(vs) != 1 || !store.ValidKey(v) {
		return "", badRequest{"the " + keyHeaderName + " header must be one value of 1 to 64 letters, digits, - or _"}
	}
	return v, nil
}

// newKey is a fresh idempotency key for a rendered form: 128 random bits,
// URL-safe.
func newKey() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(16))
}

// derivedSecret is the delete secret of a keyed create that has none of its
// own: HMAC-SHA256 keyed by the idempotency key over label and the request's
// hash, URL-safe. A resend (to this instance or another) computes the same
// secret, so it can be handed what the first answer had although the store
// keeps only its hash. It is as secret as the key: a client's own key must be
// random.
func derivedSecret(label, key, requestHash string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write([]byte(requestHash))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// inFlight is the set of idempotency keys whose creates run on this instance
// now. Its size is that of the creates in flight.
type inFlight struct {
	mu   sync.Mutex
	keys map[string]chan struct{} // closed when that create ends
}

// claim takes key for one create and returns its release. When another
// create holds it, claim returns nil and a channel that is closed when that
// one ends.
func (f *inFlight) claim(key string) (release func(), busy <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ch, ok := f.keys[key]; ok {
		return nil, ch
	}
	if f.keys == nil {
		f.keys = map[string]chan struct{}{}
	}
	ch := make(chan struct{})
	f.keys[key] = ch
	return func() {
		f.mu.Lock()
		delete(f.keys, key)
		f.mu.Unlock()
		close(ch)
	}, nil
}

// createKeyed stores k through the store's CreateEntryOnce while holding its
// key on this instance. With wait, a create that finds the key held waits up
// to formWait for the holder to end (a double-clicked form: the second then
// gets the first's entry); without, it is errKeyInFlight at once.
func (s *Server) createKeyed(ctx context.Context, k store.Keyed, secret string, wait bool) (store.Entry, bool, error) {
	var deadline <-chan time.Time
	for {
		release, busy := s.inFlight.claim(k.Key)
		if release != nil {
			defer release()
			return s.entries.CreateEntryOnce(ctx, k, secret)
		}
		if !wait {
			return store.Entry{}, false, errKeyInFlight
		}
		if deadline == nil {
			t := time.NewTimer(formWait)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-busy:
		case <-deadline:
			return store.Entry{}, false, errKeyInFlight
		case <-ctx.Done():
			return store.Entry{}, false, errKeyInFlight
		}
	}
}

package e2e

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guestbook/guestbook/store/storetest"
)

// visitor is an HTTP client that behaves as a browser without script: it
// keeps cookies, sends Origin with its forms, and does not follow redirects,
// so that the 303 after a post is seen: that 303 is the acknowledgement.
type visitor struct {
	base string
	hc   *http.Client

	mu    sync.Mutex
	token string // a form_token the guestbook served this visitor, once
}

// newVisitor is a visitor of base. With fresh set, every request opens a
// connection of its own (a visitor who reloads with a new connection each
// time, so that the balancer in front picks again); otherwise connections
// are kept alive.
func newVisitor(base string, fresh bool) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{base: base, hc: &http.Client{
		Jar:           jar,
		Timeout:       20 * time.Second,
		Transport:     &http.Transport{DisableKeepAlives: fresh, MaxIdleConnsPerHost: 4},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// directClient is an HTTP client that never goes through a proxy named in
// the environment: the test's traffic stays on its own network.
func directClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

// response is what a request got.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request with an optional body and reads the whole answer.
func (v *visitor) do(method, path string, body io.Reader, header http.Header) (response, error) {
	req, err := http.NewRequest(method, v.base+path, body)
	if err != nil {
		return response{}, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := v.hc.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

func (v *visitor) get(path string) (response, error) { return v.do("GET", path, nil, nil) }

// mustGet fails the test unless GET path answers want.
func (v *visitor) mustGet(t *testing.T, path string, want int) response {
	t.Helper()
	r, err := v.get(path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if r.status != want {
		t.Fatalf("GET %s: %d, want %d; body:\n%s", path, r.status, want, excerpt(r.body))
	}
	return r
}

// postForm posts form values as a browser on this site does: Origin is the
// site, and Sec-Fetch-Site says same-origin.
// A create form without a form_token gets the visitor's, as a browser
// posts the token of the form it was served; the topology's app tier has
// no minimum age (app.form_min_age 0), so one token serves every write.
// When the form page itself is not served (shed with 503, say), its answer
// is the write's, as a person would see it.
func (v *visitor) postForm(path string, form url.Values) (response, error) {
	if _, set := form["form_token"]; path == "/visitor/visitor_create/" && !set {
		token, page, err := v.formToken()
		if err != nil || token == "" {
			return page, err
		}
		form = maps.Clone(form)
		form.Set("form_token", token)
	}
	return v.do("POST", path, strings.NewReader(form.Encode()), http.Header{
		"Content-Type":   {"application/x-www-form-urlencoded"},
		"Origin":         {v.base},
		"Sec-Fetch-Site": {"same-origin"},
	})
}

var formTokenRE = regexp.MustCompile(`name="form_token" value="([^"]*)"`)

// formToken is the form_token of the create form as the guestbook served
// it to this visitor the first time it was served, or, while it was not,
// the answer to asking for the form.
func (v *visitor) formToken() (string, response, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.token != "" {
		return v.token, response{}, nil
	}
	r, err := v.get("/visitor/visitor_create/")
	if err != nil || r.status != http.StatusOK {
		return "", r, err
	}
	m := formTokenRE.FindStringSubmatch(r.body)
	if m == nil {
		return "", r, fmt.Errorf("the create form has no form_token")
	}
	v.token = m[1]
	return v.token, r, nil
}

// signed is form with the visitor's form_token, for a test that posts it
// its own way.
func (v *visitor) signed(t *testing.T, form url.Values) url.Values {
	t.Helper()
	token, r, err := v.formToken()
	if err != nil || token == "" {
		t.Fatalf("the create form: %d %v", r.status, err)
	}
	form = maps.Clone(form)
	form.Set("form_token", token)
	return form
}

// entryForm is the create form filled in.
func entryForm(name, email, content string) url.Values {
	return url.Values{"name": {name}, "email": {email}, "day": {""}, "content": {content}}
}

// write creates an entry whose content starts with a new marker of l,
// and records in l whether the guestbook acknowledged it (303 to the list).
func (v *visitor) write(l *ledger, text string) (marker string, r response, err error) {
	return v.writeWith(l, text, "")
}

// writeKeyed is write with a fresh idempotency key in the form, as the
// create form the guestbook renders carries one: a write the web tier may
// send again to another app instance, and the app tier stores once.
func (v *visitor) writeKeyed(l *ledger, text string) (marker string, r response, err error) {
	return v.writeWith(l, text, newIdempotencyKey())
}

// writeWith is write with the form's idempotency_key set to key (none if
// key is empty).
func (v *visitor) writeWith(l *ledger, text, key string) (marker string, r response, err error) {
	marker = l.next()
	content := marker
	if text != "" {
		content += " " + text
	}
	form := entryForm("방문객", "visitor@example.com", content)
	if key != "" {
		form.Set("idempotency_key", key)
	}
	r, err = v.postForm("/visitor/visitor_create/", form)
	l.record(marker, acknowledged(r, err))
	return marker, r, err
}

// createKeyed creates an entry with the JSON API, with a fresh
// Idempotency-Key, whose content starts with a new marker of l, and records
// in l whether the guestbook acknowledged it (201).
func (v *visitor) createKeyed(l *ledger, text string) (marker string, r response, err error) {
	marker = l.next()
	body, _ := json.Marshal(map[string]string{"name": "API", "email": "api@example.com", "content": marker + " " + text})
	r, err = v.do("POST", "/visitor/api/entries", bytes.NewReader(body),
		http.Header{"Content-Type": {"application/json"}, "Idempotency-Key": {newIdempotencyKey()}})
	l.record(marker, err == nil && r.status == http.StatusCreated)
	return marker, r, err
}

// acknowledged reports a create form's acknowledgement: the 303 to the list.
func acknowledged(r response, err error) bool {
	return err == nil && r.status == http.StatusSeeOther && r.header.Get("Location") == "/visitor/visitor_list/"
}

// newIdempotencyKey is a key as README.md asks a client to make one: 16
// random bytes in URL-safe base64 (22 characters).
func newIdempotencyKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var (
	instanceRE = regexp.MustCompile(`<dd class="instance-id">([^<]*)</dd>`)
	entryIDRE  = regexp.MustCompile(`<li class="card entry" id="entry-(\d+)">`)
)

// instanceOf is the instance id a page says served it.
func instanceOf(body string) string {
	if m := instanceRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

func excerpt(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// ledger keeps every write a test's clients tried and what they were told,
// to hold the database to it: each acknowledged write there exactly once,
// each refused or failed one at most once (its answer may have been lost
// after it was applied), deleted ones gone, and nothing else.
type ledger struct {
	run string // in every marker of this ledger, so tests share a database safely

	mu     sync.Mutex
	n      int
	writes map[string]writeState
}

type writeState int

const (
	writeTried   writeState = iota // sent, not acknowledged
	writeAcked                     // 303 or 201
	writeDeleted                   // acknowledged, then deleted with acknowledgement
	writeRefused                   // refused with a clear error: must not be stored
)

func newLedger() *ledger {
	b := make([]byte, 4)
	rand.Read(b)
	return &ledger{run: hex.EncodeToString(b), writes: map[string]writeState{}}
}

// next is a new marker: e2e-RUN-N, unique, with no space.
func (l *ledger) next() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	m := fmt.Sprintf("e2e-%s-%05d", l.run, l.n)
	l.writes[m] = writeTried
	return m
}

func (l *ledger) record(marker string, acked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if acked {
		l.writes[marker] = writeAcked
	}
}

func (l *ledger) deleted(marker string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes[marker] = writeDeleted
}

// refused records that the guestbook refused the write of marker, so that
// it must not be stored at all.
func (l *ledger) refused(marker string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes[marker] = writeRefused
}

// check counts the entries of each marker on server s (the writer, or a
// replica that has caught up) and holds them to the ledger.
func (l *ledger) check(t *testing.T, s *storetest.Server, what string) {
	t.Helper()
	counts := countMarkers(t, s, l.run)
	l.mu.Lock()
	defer l.mu.Unlock()
	var acked, deleted, refused, tried, triedStored, bad int
	for m, state := range l.writes {
		n := counts[m]
		delete(counts, m)
		switch state {
		case writeAcked:
			acked++
			if n != 1 {
				bad++
				t.Errorf("%s: acknowledged write %s is there %d times, want exactly once", what, m, n)
			}
		case writeDeleted:
			deleted++
			if n != 0 {
				bad++
				t.Errorf("%s: deleted entry %s is still there (%d)", what, m, n)
			}
		case writeRefused:
			refused++
			if n != 0 {
				bad++
				t.Errorf("%s: refused write %s was stored (%d)", what, m, n)
			}
		case writeTried:
			tried++
			triedStored += n
			if n > 1 {
				bad++
				t.Errorf("%s: unacknowledged write %s is there %d times: applied twice", what, m, n)
			}
		}
	}
	for m, n := range counts {
		t.Errorf("%s: %d entries %s that no client wrote", what, n, m)
	}
	if bad == 0 {
		t.Logf("%s: each of %d acknowledged writes is there exactly once; %d deleted and %d refused are not; "+
			"%d had no answer or an error, and %d of those were stored", what, acked, deleted, refused, tried, triedStored)
	}
}

// countMarkers counts the entries on s by the marker their content starts
// with, for markers of run.
func countMarkers(t *testing.T, s *storetest.Server, run string) map[string]int {
	t.Helper()
	db, err := sql.Open("mysql", s.RootDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT REGEXP_SUBSTR(content, '^e2e-[0-9a-f]+-[0-9]+') AS m, COUNT(*)
		FROM `+dbName+`.entries WHERE content LIKE ? GROUP BY m`, "e2e-"+run+"-%")
	if err != nil {
		t.Fatalf("count entries on %s: %v", s.Addr(), err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var m string
		var n int
		if err := rows.Scan(&m, &n); err != nil {
			t.Fatal(err)
		}
		counts[m] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("count entries on %s: %v", s.Addr(), err)
	}
	return counts
}

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// Writes that are safe to resend, across the real tiers: the same create
// sent twice at once, through different web and app instances, is stored
// once, and both senders get the first one's answer.

var formKeyRE = regexp.MustCompile(`<input type="hidden" name="idempotency_key" value="([^"]+)">`)

func TestADoubleSubmittedFormAndAnAPICreateSentToBothAppsStoreOneEntry(t *testing.T) {
	tp := startTopology(t, topologyOptions{})
	l := newLedger()
	const rounds = 6

	t.Run("the form, submitted twice at once through the balancer", func(t *testing.T) {
		spread := 0 // rounds whose two posts two app instances answered
		for range rounds {
			// A visitor opens the form and double-clicks its button: the
			// two posts go on connections of their own, so the balancer
			// hands them to both web instances.
			v := newVisitor(tp.base, true)
			m := formKeyRE.FindStringSubmatch(v.mustGet(t, "/visitor/visitor_create/", http.StatusOK).body)
			if m == nil {
				t.Fatal("the create form has no idempotency_key")
			}
			marker := l.next()
			form := entryForm("두번클릭", "double@example.com", marker+" 두 번 눌렀어요")
			form.Set("idempotency_key", m[1])
			rs := twice(func(int) (response, error) { return v.postForm("/visitor/visitor_create/", form) })
			if a, b := hopName(rs[0].r.header, "Guestbook-App"), hopName(rs[1].r.header, "Guestbook-App"); a != b {
				spread++
			}
			acked := true
			for _, r := range rs {
				if !acknowledged(r.r, r.err) {
					acked = false
					t.Errorf("a post of a double-submitted form got %d %v, want the 303 to the list", r.r.status, r.err)
				}
			}
			l.record(marker, acked)
		}
		t.Logf("in %d of %d rounds the two posts reached both app instances", spread, rounds)
	})

	t.Run("an API create with one Idempotency-Key sent to app-1 and app-2 at once", func(t *testing.T) {
		for range rounds {
			key, marker := newIdempotencyKey(), l.next()
			body := fmt.Sprintf(`{"name":"동시","email":"api@example.com","content":"%s 두 인스턴스에 동시에"}`, marker)
			rs := twice(func(i int) (response, error) {
				return newVisitor("http://"+tp.apps[i].addr, false).do("POST", "/visitor/api/entries", strings.NewReader(body),
					http.Header{"Content-Type": {"application/json"}, "Idempotency-Key": {key}})
			})
			var created [2]struct {
				ID          int64  `json:"id"`
				DeleteToken string `json:"delete_token"`
			}
			replayed, ok := 0, true
			for i, r := range rs {
				if r.err != nil || r.r.status != http.StatusCreated || json.Unmarshal([]byte(r.r.body), &created[i]) != nil {
					ok = false
					t.Errorf("app-%d: %d %v, want 201 with the entry\n%s", i+1, r.r.status, r.err, excerpt(r.r.body))
					continue
				}
				if r.r.header.Get("Idempotent-Replayed") == "true" {
					replayed++
				}
			}
			if ok && (created[0].ID != created[1].ID || created[0].DeleteToken != created[1].DeleteToken || replayed != 1) {
				t.Errorf("app-1 and app-2 answered entries %d and %d (same delete_token: %v), %d of them replayed; "+
					"want one entry, the same answer, one replay",
					created[0].ID, created[1].ID, created[0].DeleteToken == created[1].DeleteToken, replayed)
			}
			l.record(marker, ok)
		}
	})

	l.check(t, tp.primary, "primary")
}

// result is one answer of twice.
type result struct {
	r   response
	err error
}

// twice runs send(0) and send(1) at the same moment and returns what each
// got.
func twice(send func(i int) (response, error)) [2]result {
	var rs [2]result
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range rs {
		wg.Go(func() {
			<-start
			rs[i].r, rs[i].err = send(i)
		})
	}
	close(start)
	wg.Wait()
	return rs
}

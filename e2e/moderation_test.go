package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/tier/hops"
)

// TestTheAdminModeratesThroughTheWebTier: with pre-moderation on, a new
// entry is on no public page or API through the balancer, and its author is
// told it waits; the admin signs in through the web tier (the session then
// works on either app instance, since it is signed with the shared secret),
// sees the entries with their emails, approves the waiting one, which then
// shows, and deletes everything one source wrote after seeing how many.
func TestTheAdminModeratesThroughTheWebTier(t *testing.T) {
	const token = "e2e-admin-token-0123456789abcdef"
	tp := startTopology(t, topologyOptions{adminToken: token, moderation: "pre", web1TrustsClient: true})
	public := newVisitor(tp.base, true)

	// Two entries from one source, named by the proxy web-1 trusts.
	spammer := newVisitor("http://"+tp.webs[0].addr, true)
	for i := range 2 {
		r, err := spammer.do("POST", "/visitor/api/entries",
			strings.NewReader(fmt.Sprintf(`{"name":"광고","email":"spam%d@example.com","content":"mod-spam-%d"}`, i, i)),
			http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {"203.0.113.66"}})
		if err != nil || r.status != http.StatusCreated || !strings.Contains(r.body, `"pending":true`) {
			t.Fatalf("spam create %d: %d %v %s", i, r.status, err, excerpt(r.body))
		}
	}

	author := newVisitor(tp.base, true)
	r, err := author.postForm("/visitor/visitor_create/", entryForm("검토", "author@example.com", "mod-waiting-entry"))
	if err != nil || r.status != http.StatusSeeOther || r.header.Get("Location") != "/visitor/visitor_list/?waiting=1" {
		t.Fatalf("the author's create: %d %v, Location %q", r.status, err, r.header.Get("Location"))
	}
	told := author.mustGet(t, "/visitor/visitor_list/?waiting=1", http.StatusOK)
	if !strings.Contains(told.body, "approval") && !strings.Contains(told.body, "승인") {
		t.Errorf("the author is not told the entry waits:\n%s", excerpt(told.body))
	}
	id := tp.primary.QueryString(t, "SELECT id FROM "+dbName+".entries WHERE content = 'mod-waiting-entry'")
	tp.replica.WaitCaughtUp(t, tp.primary)
	shown := func(v *visitor) bool {
		t.Helper()
		list := v.mustGet(t, "/visitor/visitor_list/", http.StatusOK)
		api := v.mustGet(t, "/visitor/api/entries", http.StatusOK)
		detail, _ := v.get("/visitor/visitor_detail/" + id)
		get, _ := v.get("/visitor/api/entries/" + id)
		in := strings.Contains(list.body, "mod-waiting-entry")
		if strings.Contains(api.body, "mod-waiting-entry") != in || (detail.status == http.StatusOK) != in || (get.status == http.StatusOK) != in {
			t.Errorf("the public reads disagree: list %v, API list %v, detail %d, API get %d",
				in, strings.Contains(api.body, "mod-waiting-entry"), detail.status, get.status)
		}
		return in
	}
	if shown(public) || shown(author) {
		t.Fatal("a waiting entry is shown on a public page")
	}

	admin := newVisitor(tp.base, true)
	if r := admin.mustGet(t, "/visitor/admin/", http.StatusOK); strings.Contains(r.body, "@example.com") || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("the sign-in page shows an email or may be cached (Cache-Control %q)", r.header.Get("Cache-Control"))
	}
	if r, err := admin.postForm("/visitor/admin/sign-in", url.Values{"admin_token": {"not the token"}}); err != nil || r.status != http.StatusForbidden {
		t.Fatalf("a wrong token: %d %v, want 403", r.status, err)
	}
	if r, err := admin.postForm("/visitor/admin/sign-in", url.Values{"admin_token": {token}}); err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d %v", r.status, err)
	}
	apps := map[string]bool{}
	var list response
	for range 6 { // fresh connections: both web and app instances answer
		list = admin.mustGet(t, "/visitor/admin/", http.StatusOK)
		apps[strings.SplitN(list.header.Get(hops.HeaderApp), ";", 2)[0]] = true
		for _, email := range []string{"author@example.com", "spam0@example.com", "spam1@example.com"} {
			if !strings.Contains(list.body, email) {
				t.Fatalf("the admin's list lacks %s:\n%s", email, excerpt(list.body))
			}
		}
	}
	t.Logf("the admin's session was accepted by app instances %v", apps)

	if r, err := admin.postForm("/visitor/admin/entries", url.Values{"id": {id}, "action": {"approve"}}); err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("approve: %d %v", r.status, err)
	}
	tp.replica.WaitCaughtUp(t, tp.primary)
	// Each web instance's cache may keep the public pages made before the
	// approval for app.cache_ttl, and serve them once more while it
	// refreshes them (web.cache_stale_while_revalidate): past the TTL, a
	// round of reads on fresh connections starts both refreshes.
	time.Sleep(appCacheTTL)
	for range 4 {
		public.get("/visitor/visitor_list/")
		public.get("/visitor/api/entries")
	}
	time.Sleep(300 * time.Millisecond)
	if !shown(public) {
		t.Error("the approved entry is not shown")
	}

	// The spam's source: the one named right after its email (the first
	// entry and the author's share another, the test client's own).
	after := list.body[strings.Index(list.body, "spam0@example.com"):]
	m := regexp.MustCompile(`href="/visitor/admin/source/([0-9a-f]{64})"`).FindStringSubmatch(after)
	if m == nil {
		t.Fatalf("no source on the spam's entry:\n%s", excerpt(list.body))
	}
	source := m[1]
	confirm := admin.mustGet(t, "/visitor/admin/source/"+source, http.StatusOK)
	if !regexp.MustCompile(`\b2\b`).MatchString(confirm.body) || !strings.Contains(confirm.body, "spam1@example.com") || strings.Contains(confirm.body, "author@example.com") {
		t.Errorf("the confirmation does not say 2 entries:\n%s", excerpt(confirm.body))
	}
	if r, err := admin.postForm("/visitor/admin/source/"+source, nil); err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("delete the source: %d %v", r.status, err)
	}
	if n := tp.primary.QueryString(t, "SELECT COUNT(*) FROM "+dbName+".entries WHERE content LIKE 'mod-spam-%'"); n != "0" {
		t.Errorf("%s of the source's entries are left, want 0", n)
	}
	if n := tp.primary.QueryString(t, "SELECT COUNT(*) FROM "+dbName+".entries WHERE content = 'mod-waiting-entry'"); n != "1" {
		t.Errorf("deleting the source took the author's entry too (%s left)", n)
	}
}

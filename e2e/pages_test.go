package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestTheThreeTiersOnTheirOwnHosts starts the original's machines and goes
// through them as visitors do: every page, the balancing, bad input and a
// real browser. None of these hurts the system, so they share one; at the
// end the database holds exactly what the visitors were told it holds.
func TestTheThreeTiersOnTheirOwnHosts(t *testing.T) {
	tp := startTopology(t, topologyOptions{})
	l := newLedger()

	t.Run("the tiers talk to each other across their own hosts", func(t *testing.T) {
		testTiersCrossTheNetwork(t, tp)
	})
	t.Run("every page answers through the web tier", func(t *testing.T) {
		testEveryPage(t, tp, l)
	})
	t.Run("refreshing shows the web and app instances taking turns", func(t *testing.T) {
		testBalancingShows(t, tp)
	})
	t.Run("bad input gets a clear error and changes nothing", func(t *testing.T) {
		testBadInput(t, tp, l)
	})
	t.Run("a visitor writes in Korean in a real browser", func(t *testing.T) {
		testBrowserVisit(t, tp, l)
	})

	l.check(t, tp.primary, "primary")
	tp.replica.WaitCaughtUp(t, tp.primary)
	l.check(t, tp.replica, "replica")
}

// testTiersCrossTheNetwork checks that the database sees the app's
// connections come from the two app hosts (its account admits no other
// address), so that traffic between the tiers crosses the test network.
func testTiersCrossTheNetwork(t *testing.T, tp *topology) {
	if !tp.net.namespaced() {
		t.Skipf("the tiers share loopback here (%s): run as root with ip (iproute2) for hosts of their own",
			tp.net.loopback)
	}
	hosts := tp.primary.QueryString(t, `SELECT GROUP_CONCAT(DISTINCT SUBSTRING_INDEX(host, ':', 1) ORDER BY SUBSTRING_INDEX(host, ':', 1))
		FROM information_schema.processlist WHERE user = ?`, appUser)
	want := tp.net.hosts["app-1"].addr + "," + tp.net.hosts["app-2"].addr
	if hosts != want {
		t.Errorf("the primary sees the app's connections from %q, want from the app hosts %s", hosts, want)
	}
}

// testEveryPage visits every page, writes an entry, finds it, reads its
// detail page and deletes it, and does the same through the JSON API.
func testEveryPage(t *testing.T, tp *topology, l *ledger) {
	v := newVisitor(tp.base, false)

	home := v.mustGet(t, "/", http.StatusOK)
	if !strings.HasPrefix(instanceOf(home.body), "web-") {
		t.Errorf("the home page does not say which web instance served it:\n%s", excerpt(home.body))
	}
	css := regexp.MustCompile(`href="(/static/[^"]+\.css)"`).FindStringSubmatch(home.body)
	if css == nil {
		t.Fatalf("the home page links no stylesheet:\n%s", excerpt(home.body))
	}
	if r := v.mustGet(t, css[1], http.StatusOK); !strings.Contains(r.header.Get("Content-Type"), "text/css") {
		t.Errorf("%s is served as %q", css[1], r.header.Get("Content-Type"))
	}
	v.mustGet(t, "/favicon.ico", http.StatusOK)
	if gb := v.mustGet(t, "/visitor/", http.StatusOK); !strings.HasPrefix(instanceOf(gb.body), "app-") {
		t.Errorf("the guestbook's home does not say which app instance served it:\n%s", excerpt(gb.body))
	}
	if form := v.mustGet(t, "/visitor/visitor_create/", http.StatusOK); !strings.Contains(form.body, `action="/visitor/visitor_create/"`) {
		t.Errorf("the write page has no form:\n%s", excerpt(form.body))
	}

	marker, r, err := v.write(l, "세 티어를 지나 저장되었어요")
	if err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("POST /visitor/visitor_create/: %d %v, want 303; body:\n%s", r.status, err, excerpt(r.body))
	}
	list := v.mustGet(t, "/visitor/visitor_list/", http.StatusOK)
	id := entryWith(t, list.body, marker)
	detailPath := fmt.Sprintf("/visitor/visitor_detail/%d", id)
	detail := v.mustGet(t, detailPath, http.StatusOK)
	for _, want := range []string{marker + " 세 티어를 지나 저장되었어요", "방문객"} {
		if !strings.Contains(detail.body, want) {
			t.Errorf("the detail page lacks %q", want)
		}
	}
	for name, body := range map[string]string{"list": list.body, "detail": detail.body} {
		if strings.Contains(body, "visitor@example.com") {
			t.Errorf("the %s page shows the entry's email, which is the admin's alone", name)
		}
	}
	confirm := v.mustGet(t, fmt.Sprintf("/visitor/visitor_delete/%d", id), http.StatusOK)
	if strings.Contains(confirm.body, `name="admin_token"`) {
		t.Errorf("the delete page asks the entry's own writer for the admin token")
	}
	r, err = v.postForm(fmt.Sprintf("/visitor/visitor_delete/%d", id), nil)
	if err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("POST delete: %d %v, want 303; body:\n%s", r.status, err, excerpt(r.body))
	}
	l.deleted(marker)
	v.mustGet(t, detailPath, http.StatusNotFound)

	testAPI(t, v, l)
}

// entryWith finds the id of the entry whose content starts with marker in a
// list page.
func entryWith(t *testing.T, list, marker string) int64 {
	t.Helper()
	at := strings.Index(list, marker)
	if at < 0 {
		t.Fatalf("the list does not show %s", marker)
	}
	ids := entryIDRE.FindAllStringSubmatch(list[:at], -1)
	if len(ids) == 0 {
		t.Fatalf("no entry id before %s in the list", marker)
	}
	var id int64
	fmt.Sscan(ids[len(ids)-1][1], &id)
	return id
}

// testAPI creates, reads, lists and deletes an entry through the JSON API.
func testAPI(t *testing.T, v *visitor, l *ledger) {
	t.Helper()
	marker := l.next()
	body := fmt.Sprintf(`{"name":"홍길동","email":"hong@example.com","content":%q}`, marker+" API로 썼어요")
	r, err := v.do("POST", "/visitor/api/entries", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
	if err != nil || r.status != http.StatusCreated {
		t.Fatalf("POST /visitor/api/entries: %d %v, want 201; body:\n%s", r.status, err, excerpt(r.body))
	}
	l.record(marker, true)
	var created struct {
		ID          int64  `json:"id"`
		DeleteToken string `json:"delete_token"`
	}
	if err := json.Unmarshal([]byte(r.body), &created); err != nil || created.ID == 0 || created.DeleteToken == "" {
		t.Fatalf("the API's answer has no id and delete_token (%v):\n%s", err, r.body)
	}
	entryPath := fmt.Sprintf("/visitor/api/entries/%d", created.ID)
	if got := v.mustGet(t, entryPath, http.StatusOK); !strings.Contains(got.body, marker) || strings.Contains(got.body, "hong@example.com") {
		t.Errorf("GET %s lacks the content, or shows the email to the public:\n%s", entryPath, got.body)
	}
	if got := v.mustGet(t, "/visitor/api/entries?limit=100", http.StatusOK); !strings.Contains(got.body, marker) || strings.Contains(got.body, "hong@example.com") {
		t.Errorf("the API's list lacks the new entry, or shows its email to the public")
	}
	// The admin's bearer reaches the app tier through the web tier, and
	// sees the email.
	r, err = v.do("GET", entryPath, nil, http.Header{"Authorization": {"Bearer " + adminToken}})
	if err != nil || r.status != http.StatusOK || !strings.Contains(r.body, `"email":"hong@example.com"`) {
		t.Errorf("GET %s as the admin: %d %v, want 200 with the email:\n%s", entryPath, r.status, err, r.body)
	}
	r, err = v.do("DELETE", entryPath, nil, http.Header{"Authorization": {"Bearer " + created.DeleteToken}})
	if err != nil || r.status != http.StatusNoContent {
		t.Fatalf("DELETE %s: %d %v, want 204; body:\n%s", entryPath, r.status, err, r.body)
	}
	l.deleted(marker)
	v.mustGet(t, entryPath, http.StatusNotFound)
}

// testBalancingShows refreshes the home page and the guestbook's home, each
// time on a new connection, as the original's visitors did to watch the
// load balancing: both web instances and both app instances must show.
// Within app.cache_ttl a refresh of the guestbook's home is the page a web
// instance kept, made by one app instance: each refresh asks for a query of
// its own (the app tier ignores it), which no web instance has kept.
func testBalancingShows(t *testing.T, tp *topology) {
	v := newVisitor(tp.base, true)
	for _, page := range []struct{ path, tier string }{{"/", "web"}, {"/visitor/", "app"}} {
		seen := map[string]int{}
		var order []string
		for i := range 6 {
			path := page.path
			if page.tier == "app" {
				path = withQuery(path, fmt.Sprintf("refresh=%d", i))
			}
			id := instanceOf(v.mustGet(t, path, http.StatusOK).body)
			seen[id]++
			order = append(order, id)
		}
		if seen[page.tier+"-1"] == 0 || seen[page.tier+"-2"] == 0 || len(seen) != 2 {
			t.Errorf("six refreshes of %s were served by %v, want both %s-1 and %s-2", page.path, order, page.tier, page.tier)
		}
	}
}

package app

import (
	"strings"
	"testing"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/tier/page"
)

func TestRowCacheKeepsLanguageAndDeletabilityApartAndStaysBounded(t *testing.T) {
	c := newRowCache(parsePages(assets.NewStatic())["list"], 3)
	e := store.Entry{ID: 7, Name: "<b>방문자</b>", Day: "2026-11-25", Content: "안녕"}
	mine := func(store.Entry) bool { return true }
	theirs := func(store.Entry) bool { return false }

	for range 2 { // the second time from the cache
		ko, _ := c.render(page.Ko, []store.Entry{e}, mine)
		stranger, _ := c.render(page.Ko, []store.Entry{e}, theirs)
		en, _ := c.render(page.En, []store.Entry{e}, theirs)
		if !strings.Contains(string(ko), "/visitor/visitor_delete/7") {
			t.Errorf("the writer's row has no delete link:\n%s", ko)
		}
		if strings.Contains(string(stranger), "visitor_delete") {
			t.Errorf("a stranger's row has a delete link:\n%s", stranger)
		}
		if ko == en {
			t.Error("Korean and English rows are the same")
		}
		if strings.Contains(string(ko), "<b>") {
			t.Errorf("a name is not escaped in its row:\n%s", ko)
		}
	}
	for id := range int64(10) {
		c.render(page.En, []store.Entry{{ID: id}}, theirs)
	}
	if n := c.rows.len(); n > 3 {
		t.Errorf("the cache holds %d rows, want at most 3", n)
	}
}

package app

import (
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/tier/page"
)

func TestRowCacheKeepsLanguageAndDeletabilityApartAndStaysBounded(t *testing.T) {
	c := newRowCache(parsePages(assets.NewStatic())["list"], 3000, 1500)
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
	if n := c.rows.bytes(); n > 3000 {
		t.Errorf("the cache holds %d bytes of rows, want at most 3000", n)
	}
}

func TestARowIsNeverShownForAnotherEntryThatReusesItsID(t *testing.T) {
	c := newRowCache(parsePages(assets.NewStatic())["list"], maxRowBytes, maxRowSize)
	theirs := func(store.Entry) bool { return false }
	deleted := store.Entry{ID: 9, Name: "deleted", CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	reused := store.Entry{ID: 9, Name: "new", CreatedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	c.render(page.En, []store.Entry{deleted}, theirs)
	if row, _ := c.render(page.En, []store.Entry{reused}, theirs); !strings.Contains(string(row), "new") {
		t.Errorf("entry 9 written again shows the deleted one's row:\n%s", row)
	}
}

func TestKeptPiecesStayWithinTheirBytesWhateverVisitorsWrite(t *testing.T) {
	f := newFragments[int](10_000, 1_000)
	for i := range 100 {
		f.get(i, func() (template.HTML, error) { return template.HTML(strings.Repeat("x", 900)), nil })
	}
	f.get(-1, func() (template.HTML, error) { return template.HTML(strings.Repeat("x", 5_000)), nil })
	if n := f.bytes(); n > 10_000 {
		t.Errorf("kept %d bytes, want at most 10000", n)
	}
	if _, kept := f.kept[-1]; kept {
		t.Error("a piece over the size limit was kept")
	}
}

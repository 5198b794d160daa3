package app

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"sync"

	"github.com/guestbook/guestbook/store"
)

// rowCache keeps each entry's row of the list page as rendered HTML, per
// language and per whether the reader may delete it. Rendering a row through
// html/template costs tens of microseconds (every value goes through
// reflection and an escaper), which made the rows most of the list page's
// cost. An entry never changes once written (there is no edit), so a row
// rendered once stays right for as long as the entry exists, and a deleted
// entry's row is simply never asked for again. Rows are still rendered by
// the "entry" template in list.html, escaped as everywhere else.
type rowCache struct {
	tmpl *template.Template // has "entry"
	max  int

	mu   sync.RWMutex
	rows map[rowKey]template.HTML
}

type rowKey struct {
	id   int64
	lang string
	mine bool
}

// maxCachedRows bounds the cache at a few MB: a row is under 1 KB.
const maxCachedRows = 4096

func newRowCache(tmpl *template.Template, max int) *rowCache {
	return &rowCache{tmpl: tmpl, max: max, rows: make(map[rowKey]template.HTML)}
}

// entryRow is what the "entry" template shows.
type entryRow struct {
	store.Entry
	Lang string
	Mine bool // the reader may delete it
}

// render returns the rows of entries, newest first as given, in lang, with a
// delete link on those mine says the reader may delete.
func (c *rowCache) render(lang string, entries []store.Entry, mine func(store.Entry) bool) (template.HTML, error) {
	rows := make([]template.HTML, len(entries))
	size := 0
	for i, e := range entries {
		row, err := c.row(entryRow{Entry: e, Lang: lang, Mine: mine(e)})
		if err != nil {
			return "", err
		}
		rows[i], size = row, size+len(row)
	}
	var out strings.Builder
	out.Grow(size) // one allocation for the page's rows
	for _, row := range rows {
		out.WriteString(string(row))
	}
	return template.HTML(out.String()), nil
}

func (c *rowCache) row(r entryRow) (template.HTML, error) {
	key := rowKey{id: r.ID, lang: r.Lang, mine: r.Mine}
	c.mu.RLock()
	row, ok := c.rows[key]
	c.mu.RUnlock()
	if ok {
		return row, nil
	}
	var buf bytes.Buffer
	if err := c.tmpl.ExecuteTemplate(&buf, "entry", r); err != nil {
		return "", fmt.Errorf("render row of entry %d: %w", r.ID, err)
	}
	row = template.HTML(buf.String())
	c.mu.Lock()
	if len(c.rows) >= c.max {
		// Full: start again rather than track recency. The rows asked
		// for most (the newest pages) come back within a few requests.
		clear(c.rows)
	}
	c.rows[key] = row
	c.mu.Unlock()
	return row, nil
}

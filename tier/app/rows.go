package app

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"github.com/guestbook/guestbook/store"
)

// rowCache keeps each entry's row of the list page, rendered by the "entry"
// template in list.html, per language and per whether the reader may delete
// it. Rows were most of the list page's cost before they were kept.
type rowCache struct {
	tmpl *template.Template // has "entry"
	rows *fragments[rowKey]
}

// rowKey names a row. The entry's creation time is part of it because an id
// can come back: MariaDB before 10.2.4 resets its auto-increment counter on
// restart, and a restore or a migration down and up can too, and a new entry
// must never show a deleted one's kept row.
type rowKey struct {
	id      int64
	created int64 // unix nanoseconds
	lang    string
	mine    bool
}

// Rows kept: 4 MiB in all (most rows are under 1 KB: thousands of them), and
// none over 8 KB (an entry of 5,000 quotes escapes to 25 KB; it is rendered
// each time instead).
const (
	maxRowBytes = 4 << 20
	maxRowSize  = 8 << 10
)

func newRowCache(tmpl *template.Template, maxBytes, maxRow int) *rowCache {
	return &rowCache{tmpl: tmpl, rows: newFragments[rowKey](maxBytes, maxRow)}
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
	key := rowKey{id: r.ID, created: r.CreatedAt.UnixNano(), lang: r.Lang, mine: r.Mine}
	return c.rows.get(key, func() (template.HTML, error) {
		var buf bytes.Buffer
		if err := c.tmpl.ExecuteTemplate(&buf, "entry", r); err != nil {
			return "", fmt.Errorf("render row of entry %d: %w", r.ID, err)
		}
		return template.HTML(buf.String()), nil
	})
}

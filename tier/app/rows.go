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

type rowKey struct {
	id   int64
	lang string
	mine bool
}

// maxCachedRows bounds the cache at a few MB: a row is under 1 KB.
const maxCachedRows = 4096

func newRowCache(tmpl *template.Template, max int) *rowCache {
	return &rowCache{tmpl: tmpl, rows: newFragments[rowKey](max)}
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
	return c.rows.get(rowKey{id: r.ID, lang: r.Lang, mine: r.Mine}, func() (template.HTML, error) {
		var buf bytes.Buffer
		if err := c.tmpl.ExecuteTemplate(&buf, "entry", r); err != nil {
			return "", fmt.Errorf("render row of entry %d: %w", r.ID, err)
		}
		return template.HTML(buf.String()), nil
	})
}

package app

import (
	"html/template"
	"sync"
)

// fragments keeps pieces of pages rendered once, by a key that names
// everything a piece depends on. Rendering through html/template costs
// microseconds per value (each goes through reflection and an escaper), and
// most of a page is the same from one request to the next: an entry's row
// never changes once written (there is no edit), and the part of a page
// before <main> depends only on the page, its language, title, navigation
// and language link. Pieces are still rendered by the templates, escaped as
// everywhere else; only the result is kept.
type fragments[K comparable] struct {
	max int

	mu   sync.RWMutex
	kept map[K]template.HTML
}

func newFragments[K comparable](max int) *fragments[K] {
	return &fragments[K]{max: max, kept: make(map[K]template.HTML)}
}

// get returns the piece for key, rendering it with render the first time.
func (f *fragments[K]) get(key K, render func() (template.HTML, error)) (template.HTML, error) {
	f.mu.RLock()
	piece, ok := f.kept[key]
	f.mu.RUnlock()
	if ok {
		return piece, nil
	}
	piece, err := render()
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	if len(f.kept) >= f.max {
		// Full: start again rather than track recency. The pieces asked
		// for most (the newest pages) come back within a few requests.
		clear(f.kept)
	}
	f.kept[key] = piece
	f.mu.Unlock()
	return piece, nil
}

func (f *fragments[K]) len() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.kept)
}

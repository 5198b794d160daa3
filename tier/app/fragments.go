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
//
// The cache is bounded in bytes, not only in pieces, since what a piece holds
// comes from visitors (an entry's text, a page's query): a piece larger than
// maxPiece is rendered every time instead of kept, and when the kept pieces
// would pass maxBytes they are all dropped and the cache starts again.
type fragments[K comparable] struct {
	maxBytes, maxPiece int

	mu   sync.RWMutex
	kept map[K]template.HTML
	size int // bytes kept
}

func newFragments[K comparable](maxBytes, maxPiece int) *fragments[K] {
	return &fragments[K]{maxBytes: maxBytes, maxPiece: maxPiece, kept: make(map[K]template.HTML)}
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
	if len(piece) > f.maxPiece {
		return piece, nil
	}
	f.mu.Lock()
	if _, ok := f.kept[key]; !ok {
		if f.size+len(piece) > f.maxBytes {
			// Full: start again rather than track recency. The pieces
			// asked for most (the newest pages) come back within a few
			// requests.
			clear(f.kept)
			f.size = 0
		}
		f.kept[key] = piece
		f.size += len(piece)
	}
	f.mu.Unlock()
	return piece, nil
}

// bytes is how much is kept.
func (f *fragments[K]) bytes() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.size
}

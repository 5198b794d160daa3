package app

import (
	"fmt"
	"strings"

	"github.com/guestbook/guestbook/tier/page"
)

// Defences against writes made by programs rather than people. Each refuses
// honestly: 422 with its reason, nothing stored, the form shown again with
// what was typed, and a count in guestbook_writes_refused_total by reason.

// honeypotField is the create form's trap: an input that the stylesheet puts
// off-screen (class "trap"), out of the tab order and labelled for screen
// readers as one to leave empty. People never fill it; programs that fill
// every input they find do. It is not type=hidden, which such programs
// know to skip.
const honeypotField = "website"

// The reasons a write is refused, as guestbook_writes_refused_total labels
// them.
const (
	reasonHoneypot = "honeypot"
	reasonLinks    = "links"
)

// refused is a write turned away by a defence, not by an entry's rules.
type refused struct {
	reason     string // reasonHoneypot or reasonLinks
	links, max int    // for reasonLinks: how many the content has, and may have
}

func (e *refused) Error() string {
	if e.reason == reasonLinks {
		return fmt.Sprintf("refused: the content has %d links, more than %d", e.links, e.max)
	}
	return "refused: " + e.reason
}

// apiText is the refusal as the API's "error" says it. The API has no
// honeypot: only the form is written by people.
func (e *refused) apiText() string {
	if e.reason == reasonLinks {
		return linksText(page.En, e.links, e.max)
	}
	return e.Error()
}

// tooManyLinks is the refusal of content with more links than
// app.max_links, or nil.
func (s *Server) tooManyLinks(content string) *refused {
	if n := countLinks(content); n > s.opts.MaxLinks {
		return &refused{reason: reasonLinks, links: n, max: s.opts.MaxLinks}
	}
	return nil
}

// countLinks counts each http://, https:// and www. in s, whatever their
// case; a www. that begins the host of an http:// or https:// link is part
// of that link, not a second one.
func countLinks(s string) int {
	s = strings.ToLower(s)
	n := strings.Count(s, "http://") + strings.Count(s, "https://") + strings.Count(s, "www.")
	return n - strings.Count(s, "http://www.") - strings.Count(s, "https://www.")
}

// linksText says, in lang, that content has n links where max are allowed.
func linksText(lang string, n, max int) string {
	if max == 0 {
		return fmt.Sprintf(page.T(lang, "problem.links_none"), n)
	}
	return fmt.Sprintf(page.T(lang, "problem.links"), n, max)
}

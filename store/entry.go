package store

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Entry is one guestbook entry as it is stored.
type Entry struct {
	ID   int64  `db:"id" json:"id"`
	Name string `db:"name" json:"name"`
	// Email is the admin's alone, never shown to readers: no JSON has it
	// (the app tier's API adds it for the admin itself).
	Email     string    `db:"email" json:"-"`
	Day       string    `db:"day" json:"day"`
	Content   string    `db:"content" json:"content"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	// DeleteHash is the SHA-256 of the entry's delete secret; never shown.
	DeleteHash string `db:"delete_hash" json:"-"`
	// Pending says the entry waits for the admin's approval (app.moderation:
	// pre): no public page or API shows it until then. Only its author's
	// answer to the create and the admin's pages ever see one.
	Pending bool `db:"pending" json:"-"`
}

// Limits on an entry's fields, counted in characters (runes), not bytes: the
// users write Korean, three bytes a character in UTF-8.
const (
	MaxName    = 30
	MaxEmail   = 100
	MaxDay     = 30
	MaxContent = 5000
)

// Draft is what a client sends to create an entry, before validation.
type Draft struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Day     string `json:"day"`
	Content string `json:"content"`
	// Sender is who sent it, for the write limit; never part of what a
	// client sends.
	Sender Sender `json:"-"`
	// Pending stores the entry as waiting for the admin's approval (the app
	// tier's app.moderation: pre); never part of what a client sends, nor
	// of its request's hash.
	Pending bool `json:"-"`
}

// Problem says what is wrong with one field of a Draft; the tiers turn it into
// words in the reader's language.
type Problem string

// The problems a Draft's fields can have.
const (
	ProblemRequired     Problem = "required"
	ProblemTooLong      Problem = "too_long"
	ProblemInvalidUTF8  Problem = "invalid_utf8"
	ProblemControlChar  Problem = "control_character"
	ProblemInvalidEmail Problem = "invalid_email"
)

// Normalize returns the draft as it will be stored: surrounding spaces trimmed,
// line breaks as "\n" (browsers send "\r\n" from a textarea), and an empty day
// replaced by today's date.
func (d Draft) Normalize(today time.Time) Draft {
	d = d.normalizeText()
	if d.Day == "" {
		d.Day = today.Format(time.DateOnly)
	}
	return d
}

// normalizeText is Normalize without the day's default: what a request asks
// for, whatever day it is sent.
func (d Draft) normalizeText() Draft {
	d.Name = strings.TrimSpace(d.Name)
	d.Email = strings.TrimSpace(d.Email)
	d.Day = strings.TrimSpace(d.Day)
	d.Content = strings.TrimSpace(normalizeNewlines(d.Content))
	return d
}

// Validate checks a normalized draft and returns a *ValidationError naming
// each bad field, or nil.
func (d Draft) Validate() error {
	fields := map[string]Problem{}
	check := func(name, value string, min, max int) {
		if p := textProblem(value, min, max); p != "" {
			fields[name] = p
		}
	}
	check("name", d.Name, 1, MaxName)
	check("email", d.Email, 1, MaxEmail)
	check("day", d.Day, 0, MaxDay)
	check("content", d.Content, 1, MaxContent)
	if _, bad := fields["email"]; !bad && !validEmail(d.Email) {
		fields["email"] = ProblemInvalidEmail
	}
	if len(fields) > 0 {
		return &ValidationError{Fields: fields}
	}
	return nil
}

// Limit is the longest a field may be, in characters.
func Limit(field string) int {
	switch field {
	case "name":
		return MaxName
	case "email":
		return MaxEmail
	case "day":
		return MaxDay
	case "content":
		return MaxContent
	}
	return 0
}

func textProblem(s string, min, max int) Problem {
	if !utf8.ValidString(s) {
		return ProblemInvalidUTF8
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return ProblemControlChar
		}
	}
	n := utf8.RuneCountInString(s)
	if n < min {
		return ProblemRequired
	}
	if n > max {
		return ProblemTooLong
	}
	return ""
}

// validEmail accepts a bare address (no display name, no angle brackets) whose
// domain has a dot, as people type them into a form.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".") &&
		!strings.ContainsAny(s, " \t\n")
}

func normalizeNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

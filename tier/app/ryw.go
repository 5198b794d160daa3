package app

import (
	"net/http"
	"strconv"
	"time"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/tier/forwarded"
)

// rywCookie carries, for database.read_your_writes after a write, the time
// until which this client's reads go to the primary. A browser keeps it
// across the redirect that follows a POST, so the author finds the new entry
// in the list even while the replicas lag. It holds no secret: a client that
// forges it only sends its own reads to the primary.
const rywCookie = "gb_ryw"

// wrote marks the client as having just written.
func (s *Server) wrote(w http.ResponseWriter, r *http.Request) {
	if s.opts.ReadYourWrites <= 0 {
		return
	}
	until := s.opts.Now().Add(s.opts.ReadYourWrites)
	http.SetCookie(w, &http.Cookie{
		Name: rywCookie, Value: strconv.FormatInt(until.UnixMilli(), 10), Path: "/visitor/",
		MaxAge: int((s.opts.ReadYourWrites + time.Second - 1) / time.Second), HttpOnly: true,
		Secure: forwarded.HTTPS(r), SameSite: http.SameSiteLaxMode,
	})
}

// readYourWrites sends r's reads to the primary while its cookie says the
// client wrote recently.
func (s *Server) readYourWrites(r *http.Request) *http.Request {
	if s.opts.ReadYourWrites <= 0 {
		return r
	}
	c, err := r.Cookie(rywCookie)
	if err != nil {
		return r
	}
	until, err := strconv.ParseInt(c.Value, 10, 64)
	if err != nil || s.opts.Now().UnixMilli() >= until {
		return r
	}
	return r.WithContext(store.ReadPrimary(r.Context()))
}

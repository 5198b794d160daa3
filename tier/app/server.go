// Package app is the application tier: the guestbook's pages, its JSON API
// and its health checks, over the store.
package app

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/clientlimit"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/page"
)

// Entries is what the app tier needs from the store.
type Entries interface {
	ListEntries(ctx context.Context, before int64, limit int) (store.Page, error)
	GetEntry(ctx context.Context, id int64) (store.Entry, error)
	CreateEntry(ctx context.Context, d store.Draft, deleteSecret string) (store.Entry, error)
	// CreateEntryOnce creates a keyed entry, or finds the one its key
	// made: true when this call stored it.
	CreateEntryOnce(ctx context.Context, k store.Keyed, deleteSecret string) (store.Entry, bool, error)
	DeleteEntry(ctx context.Context, id int64, deleteSecret string) error
	DeleteEntryAsAdmin(ctx context.Context, id int64) error
	// The admin's: every entry with its source, and what moderation does.
	AdminEntries(ctx context.Context, before int64, limit int, pendingOnly bool) (store.AdminPage, error)
	SourceEntries(ctx context.Context, clientHash string, limit int) (int, []store.AdminEntry, error)
	DeleteEntries(ctx context.Context, ids []int64) (int64, error)
	DeleteSource(ctx context.Context, clientHash string) (int64, error)
	ApproveEntries(ctx context.Context, ids []int64) (int64, error)
	Ping(ctx context.Context) error
	CheckSchema(ctx context.Context) error
	// Stats is the routing now: each server's health and lag, for the
	// topology page.
	Stats() store.Stats
}

// Options are what New needs besides the store.
type Options struct {
	Instance   config.Instance
	AdminToken string // empty: no admin
	// MaxLinks is app.max_links: the most links an entry's content may
	// have; 0 allows none.
	MaxLinks int
	Version  string
	Static   *assets.Static
	Log      *slog.Logger
	// Now is the clock, for the default day; time.Now when nil.
	Now func() time.Time
	// ReadYourWrites is how long after a write a client's reads go to the
	// primary (database.read_your_writes); 0 turns it off.
	ReadYourWrites time.Duration
	// Observer hears entries written and refused, for metrics; none when nil.
	Observer Observer
	// TrustedProxies are app.trusted_proxies: the web instances (and load
	// balancers) whose Guestbook-Web and Guestbook-Upstreams headers are
	// believed. Empty: nobody's.
	TrustedProxies forwarded.Trusted
	// InProcessWeb says the web tier runs in this process (role all) and
	// reaches this tier with no hop: the path's web instance is this one.
	InProcessWeb bool
	// Draining reports that the process is shutting down: /readyz answers
	// 503 while requests are still served. Never when nil.
	Draining func() bool
	// Admission bounds the requests worked on at once; none when nil.
	Admission page.Admission
	// Secret is what every app instance shares (app.secret, or the one
	// migrate made in the database): the write limit's client hash and the
	// form tokens' signatures are derived from it, so that one instance
	// counts and checks what another made. Empty: a random one for this
	// process alone (tests of one instance).
	Secret []byte
	// WriteLimit is the most entries one client may create in any
	// WriteWindow (app.write_limit, app.write_window); 0: no limit.
	WriteLimit  int
	WriteWindow time.Duration
	// FormMinAge and FormMaxAge bound how old a create form's token may be
	// when it is posted (app.form_min_age, app.form_max_age).
	FormMinAge, FormMaxAge time.Duration
	// PreModeration keeps each new entry from every public page and the
	// API until the admin approves it (app.moderation: pre).
	PreModeration bool
	// CacheTTL is how long shared caches may keep the pages that are the
	// same for every reader (app.cache_ttl, whole seconds); 0: no-store.
	CacheTTL time.Duration
}

// Observer hears what the app tier does, for metrics.
type Observer interface {
	EntryCreated()
	EntryDeleted()
	ValidationFailed()
	// WriteRefused hears a write refused by a defence against abuse, which
	// stored nothing, by reason ("write_limit", "honeypot", "links",
	// "too_soon", "token_missing", ...).
	WriteRefused(reason string)
	Shed(tier string) // a request refused over the concurrency limit
	// AdminAction hears what the admin did (AdminSignIn, AdminDelete, ...).
	AdminAction(action string)
}

type noObserver struct{}

func (noObserver) EntryCreated()       {}
func (noObserver) EntryDeleted()       {}
func (noObserver) ValidationFailed()   {}
func (noObserver) Shed(string)         {}
func (noObserver) WriteRefused(string) {}
func (noObserver) AdminAction(string)  {}

// Server is the application tier's http.Handler.
type Server struct {
	entries Entries
	opts    Options
	pages   map[string]*template.Template
	rows    *rowCache             // the list page's rows, rendered once
	headers *fragments[headerKey] // each page's part before <main>, rendered once
	mux     *http.ServeMux
	handler http.Handler
	self    hops.Instance // this instance, as the path shows it
	appHop  []string      // its Guestbook-App value, made once
	// inFlight holds the idempotency keys of the creates running here.
	inFlight inFlight
	// shedAnswers are the refusals past the concurrency limit, made once.
	shedAnswers shedAnswers
	tokens      formTokens
	// signIns limits the admin's sign-in attempts per client.
	signIns *clientlimit.Table
	// publicCache is the Cache-Control of a shared answer, made once.
	publicCache string
}

// New builds the application tier over entries.
func New(entries Entries, opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Static == nil {
		opts.Static = assets.NewStatic()
	}
	if opts.Observer == nil {
		opts.Observer = noObserver{}
	}
	if opts.Draining == nil {
		opts.Draining = func() bool { return false }
	}
	if len(opts.Secret) == 0 {
		opts.Secret = randomBytes(32)
	}
	if opts.FormMaxAge == 0 {
		opts.FormMaxAge = 24 * time.Hour
	}
	s := &Server{entries: entries, opts: opts, mux: http.NewServeMux(), self: hops.Of(opts.Instance)}
	s.publicCache = publicCacheControl(int(opts.CacheTTL / time.Second))
	s.tokens = newFormTokens(opts.Secret, opts.FormMinAge, opts.FormMaxAge, opts.Now)
	s.appHop = []string{s.self.Header()}[:1:1]
	s.pages = parsePages(opts.Static)
	s.rows = newRowCache(s.pages["list"], maxRowBytes, maxRowSize)
	s.headers = newFragments[headerKey](maxHeaderBytes, maxHeaderSize)
	s.shedAnswers = s.prepareShed()
	s.signIns = newSignInLimit(opts.Now)
	s.routes()
	s.handler = s.protect(s.mux)
	return s
}

// ServeHTTP serves the guestbook.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

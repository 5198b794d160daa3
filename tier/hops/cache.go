package hops

import (
	"strconv"
	"strings"
)

// HeaderWebCache carries the web instance's cache to the app tier, on
// topology requests only, as Guestbook-Web-Load does:
// "entries=12; bytes=180224; max_bytes=8388608; hit_ratio=0.93".
const HeaderWebCache = "Guestbook-Web-Cache"

// HeaderCacheKey is how the app tier names, on each answer a shared cache
// may keep, the query parameters the answer depends on, as Vary names
// request headers: "before" (the list page), "before, limit" (the API's
// list), absent for a page that reads none. The web tier's cache keys a
// page by those alone, and sends a request with any other parameter past
// the cache, so that neither tier's code repeats the other's routes and a
// parameter no page reads (?x=<random>) cannot push pages out.
const HeaderCacheKey = "Guestbook-Cache-Key"

// CacheView is a web instance's cache as the topology page shows it: what
// it holds, and the share of its requests it answered over the last
// minute.
type CacheView struct {
	Entries  int64   `json:"entries"`
	Bytes    int64   `json:"bytes"`
	MaxBytes int64   `json:"max_bytes"`
	HitRatio float64 `json:"hit_ratio"` // 0 to 1, to a hundredth
}

// KiB, MaxKiB and Percent are the view as a page shows it.
func (c CacheView) KiB() int64    { return (c.Bytes + 1023) / 1024 }
func (c CacheView) MaxKiB() int64 { return c.MaxBytes / 1024 }
func (c CacheView) Percent() int  { return int(c.HitRatio*100 + 0.5) }

// Header is the Guestbook-Web-Cache value.
func (c CacheView) Header() string {
	return "entries=" + strconv.FormatInt(c.Entries, 10) + "; bytes=" + strconv.FormatInt(c.Bytes, 10) +
		"; max_bytes=" + strconv.FormatInt(c.MaxBytes, 10) + "; hit_ratio=" + strconv.FormatFloat(c.HitRatio, 'f', 2, 64)
}

// ParseCacheView reads a Guestbook-Web-Cache value, refusing anything
// Header would not have written.
func ParseCacheView(v string) (CacheView, bool) {
	var c CacheView
	parts := strings.Split(v, "; ")
	if len(parts) != 4 {
		return CacheView{}, false
	}
	for i, kv := range []struct {
		key string
		to  *int64
	}{{"entries=", &c.Entries}, {"bytes=", &c.Bytes}, {"max_bytes=", &c.MaxBytes}} {
		digits, ok := strings.CutPrefix(parts[i], kv.key)
		n, err := strconv.ParseInt(digits, 10, 64)
		if !ok || err != nil || n < 0 || len(digits) > 12 {
			return CacheView{}, false
		}
		*kv.to = n
	}
	ratio, ok := strings.CutPrefix(parts[3], "hit_ratio=")
	f, err := strconv.ParseFloat(ratio, 64)
	if !ok || err != nil || !(f >= 0 && f <= 1) || len(ratio) != 4 {
		return CacheView{}, false
	}
	c.HitRatio = f
	return c, true
}

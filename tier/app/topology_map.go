package app

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/tier/page"
)

// The topology's picture: the three tiers as rows of boxes, top to bottom,
// so that it reads on a phone held upright as well as on a desk, with a
// line from the web instance to every upstream and from the app instance
// that answered to every database server. A box that is down is drawn red
// and its line dashed; the path this request took is drawn bold. The
// geometry is worked out here and the template only writes it, in SVG
// attributes (the CSP allows no inline style), coloured by classes of
// style.css.

// Map geometry, in SVG user units: 400 wide, which a phone shows near 1:1.
const (
	mapWidth   = 400
	mapPad     = 8
	mapGap     = 10
	mapPerLine = 2  // boxes side by side before a row wraps: each 187 wide
	mapBoxH    = 62 // three lines of text
	mapLabelH  = 22 // a tier's name above its boxes
	mapBetween = 30 // room for the lines between tiers
	mapMaxBoxW = 200
	mapNameLen = 22 // characters of a name the box shows; the lists below show all
)

// topoMap is the picture, ready to write.
type topoMap struct {
	Width, Height int
	Labels        []mapLabel
	Boxes         []mapBox
	Edges         []mapEdge
}

type mapLabel struct {
	Y    int
	Text string
}

// mapBox is one instance or server: Class is "box" plus "ok" or "down",
// and "here" for the hops of this request's path.
type mapBox struct {
	X, Y, W, H, CX        int
	Class                 string
	Title                 string // the whole name, as a tooltip
	Name, Line2, Line3    string
	NameY, Line2Y, Line3Y int
}

// mapEdge is a line from one tier's box to the next's: Class is "edge"
// plus "down" toward a box that is down and "here" on this request's path.
type mapEdge struct {
	X1, Y1, X2, Y2 int
	Class          string
}

// drawTopology lays t out in lang.
func drawTopology(t topology, lang string) topoMap {
	var m topoMap
	y := mapPad

	webs := make([]mapBox, 0, len(t.Web))
	for _, w := range t.Web {
		webs = append(webs, mapBox{Class: "box ok here", Title: w.ID, Name: w.ID, Line2: w.Zone, Line3: w.Subnet})
	}
	if len(webs) == 0 {
		webs = append(webs, mapBox{Class: "box none", Name: "—", Line2: page.T(lang, "topology.web.none.short")})
	}
	y = m.row(page.T(lang, "web.tier.web"), webs, y)
	webBoxes := m.Boxes[len(m.Boxes)-len(webs):]

	apps := make([]mapBox, 0, len(t.Upstreams))
	answered := -1
	for i, u := range t.Upstreams {
		b := mapBox{Class: "box " + health(u.Healthy), Title: u.Name, Name: u.Name, Line2: u.Zone,
			Line3: page.T(lang, "topology."+health(u.Healthy)) + " · " + fmt.Sprintf(page.T(lang, "topology.counts.short"), u.Requests, u.Failures)}
		if u.Answered {
			b.Class += " here"
			answered = i
		}
		apps = append(apps, b)
	}
	if answered < 0 { // no upstream list (role all, or no trusted web tier said): the answering instance alone
		answered = len(apps)
		apps = append(apps, mapBox{Class: "box ok here", Title: t.App.ID, Name: t.App.ID, Line2: t.App.Zone, Line3: t.App.Version})
	}
	y = m.row(page.T(lang, "web.tier.app"), apps, y+mapBetween)
	appBoxes := m.Boxes[len(m.Boxes)-len(apps):]
	for _, w := range webBoxes {
		for _, a := range appBoxes {
			m.edge(w, a)
		}
	}

	dbs := make([]mapBox, 0, len(t.Database.Servers))
	for _, s := range t.Database.Servers {
		role := page.T(lang, "path.role."+s.Role)
		if s.Writer {
			role += " · " + page.T(lang, "topology.writer")
		}
		line3 := page.T(lang, "topology."+health(s.Healthy))
		if s.Role == store.RoleReplica {
			line3 += " · " + page.T(lang, "path.lag") + " " + strconv.FormatFloat(s.LagSeconds, 'f', -1, 64) + "s"
		}
		b := mapBox{Class: "box " + health(s.Healthy), Title: s.Name, Name: s.Name, Line2: role, Line3: line3}
		if t.Database.reads(s.Name) {
			b.Class += " here"
		}
		dbs = append(dbs, b)
	}
	y = m.row(page.T(lang, "web.tier.db"), dbs, y+mapBetween)
	dbBoxes := m.Boxes[len(m.Boxes)-len(dbs):]
	for _, d := range dbBoxes {
		m.edge(appBoxes[answered], d)
	}
	m.Width, m.Height = mapWidth, y+mapPad
	return m
}

// row lays boxes out under a tier's label from y, mapPerLine to a line,
// each line centred, and returns the y below them.
func (m *topoMap) row(label string, boxes []mapBox, y int) int {
	m.Labels = append(m.Labels, mapLabel{Y: y + 15, Text: label})
	y += mapLabelH
	for start := 0; start < len(boxes); start += mapPerLine {
		line := boxes[start:min(start+mapPerLine, len(boxes))]
		n := len(line)
		w := min(mapMaxBoxW, (mapWidth-2*mapPad-(n-1)*mapGap)/n)
		x := (mapWidth - (n*w + (n-1)*mapGap)) / 2
		for _, b := range line {
			b.X, b.Y, b.W, b.H, b.CX = x, y, w, mapBoxH, x+w/2
			b.NameY, b.Line2Y, b.Line3Y = y+20, y+38, y+54
			b.Name = shorten(b.Name)
			m.Boxes = append(m.Boxes, b)
			x += w + mapGap
		}
		y += mapBoxH + mapGap
	}
	return y - mapGap
}

// edge joins the bottom of from to the top of to: on this request's path
// when both ends are.
func (m *topoMap) edge(from, to mapBox) {
	class := "edge"
	if hasClass(to.Class, "down") {
		class += " down"
	}
	if hasClass(from.Class, "here") && hasClass(to.Class, "here") {
		class += " here"
	}
	m.Edges = append(m.Edges, mapEdge{X1: from.CX, Y1: from.Y + from.H, X2: to.CX, Y2: to.Y, Class: class})
}

func health(ok bool) string {
	if ok {
		return "ok"
	}
	return "down"
}

func hasClass(classes, c string) bool { return slices.Contains(strings.Fields(classes), c) }

// shorten keeps a name to what a box can show.
func shorten(name string) string {
	if utf8.RuneCountInString(name) <= mapNameLen {
		return name
	}
	r := []rune(name)
	return string(r[:mapNameLen-1]) + "…"
}

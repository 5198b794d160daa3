package app

import "testing"

func TestCountLinksCountsEachLinkOnceWhateverItsCase(t *testing.T) {
	for _, tt := range []struct {
		text string
		want int
	}{
		{"안녕하세요, 링크 없음", 0},
		{"http://a.example", 1},
		{"HTTPS://A.EXAMPLE/path", 1},
		{"www.a.example", 1},
		{"WwW.a.example", 1},
		{"https://www.a.example", 1},
		{"HTTP://WWW.A.EXAMPLE and http://www.b.example", 2},
		{"http://a.example https://b.example www.c.example", 3},
		{"www.a.example/www.b.example", 2},
		{"ftp://www.a.example", 1}, // its www. is a link; ftp:// is no scheme we count
		{"http://http://", 2},
		{"wwwx.example, http:/a, https:b", 0},
	} {
		if got := countLinks(tt.text); got != tt.want {
			t.Errorf("countLinks(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

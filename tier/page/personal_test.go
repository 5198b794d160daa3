package page

import (
	"net/http/httptest"
	"testing"
)

func TestPersonalIsCredentialsOrACookieOfOursButTheLanguages(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		want   bool
	}{
		{"nothing", nil, false},
		{"the language cookie", []string{"Cookie", "gb_lang=ko"}, false},
		{"other sites' cookies", []string{"Cookie", "_ga=GA1.2; theme=dark"}, false},
		{"an author's secret", []string{"Cookie", "gb_lang=en; gb_author=abc"}, true},
		{"the read-your-writes mark", []string{"Cookie", "gb_ryw=1"}, true},
		{"the admin's session", []string{"Cookie", "x=1;gb_admin=s"}, true},
		{"a name that only contains our prefix", []string{"Cookie", "my_gb_x=1"}, false},
		{"a bearer", []string{"Authorization", "Bearer t"}, true},
		{"an empty Authorization", []string{"Authorization", ""}, true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/visitor/", nil)
		for i := 0; i+1 < len(tt.header); i += 2 {
			r.Header.Set(tt.header[i], tt.header[i+1])
		}
		if got := Personal(r); got != tt.want {
			t.Errorf("%s: Personal = %v, want %v", tt.name, got, tt.want)
		}
	}
}

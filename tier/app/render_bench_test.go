package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/guestbook/guestbook/store"
)

// BenchmarkPages renders the list page (20 entries), a detail page and the
// create form through the app tier's handler, without a network in between:
// what each costs the app tier on top of its query.
func BenchmarkPages(b *testing.B) {
	a := newTestAppOn(b, "sqlite")
	var id int64
	for i := range 20 {
		e, err := a.db.CreateEntry(context.Background(), store.Draft{
			Name: fmt.Sprintf("방문자 %d", i), Email: "v@example.com", Day: "2026-11-25",
			Content: "안녕하세요! 세 티어 구조를 배우는 중입니다. 오늘은 로드 밸런서와 복제 데이터베이스를 공부했어요. Hello <b>&</b> from the benchmark.",
		}, "")
		if err != nil {
			b.Fatal(err)
		}
		id = e.ID
	}
	for _, page := range []struct{ name, path string }{
		{"list", "/visitor/visitor_list/"},
		{"detail", fmt.Sprintf("/visitor/visitor_detail/%d", id)},
		{"create", "/visitor/visitor_create/"},
	} {
		b.Run(page.name, func(b *testing.B) {
			h := a.Config.Handler
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, page.path, nil))
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s = %d", page.path, w.Code)
				}
			}
		})
	}
}

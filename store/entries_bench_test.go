package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
)

// BenchmarkListEntries is the list page's query: the newest page and a page
// far back, on 1,000 entries, on each backend. The deep page must cost the
// same as the first (keyset pagination on the primary key). bench/suite
// measures the same at a million entries through the whole stack.
func BenchmarkListEntries(b *testing.B) {
	for _, driver := range []string{"sqlite", "mysql"} {
		b.Run(driver, func(b *testing.B) {
			db, _ := storetest.Open(b, driver)
			ctx := context.Background()
			var first int64
			for i := range 1000 {
				e, err := db.CreateEntry(ctx, store.Draft{
					Name: fmt.Sprintf("방문자 %d", i), Email: "v@example.com", Day: "2026-11-25",
					Content: "안녕하세요! 세 티어 구조를 배우는 중입니다. Hello from the benchmark.",
				}, "")
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					first = e.ID
				}
			}
			for _, page := range []struct {
				name   string
				before int64
			}{{"first", 0}, {"deep", first + 40}} {
				b.Run(page.name, func(b *testing.B) {
					for b.Loop() {
						p, err := db.ListEntries(ctx, page.before, 20)
						if err != nil || len(p.Entries) != 20 {
							b.Fatalf("ListEntries = %d entries, %v", len(p.Entries), err)
						}
					}
				})
			}
		})
	}
}

package web

import (
	"log/slog"
	"testing"
	"time"
)

// BenchmarkPick is the proxy's choice of upstream for each request, among
// three healthy app servers: it runs on every proxied request.
func BenchmarkPick(b *testing.B) {
	p, err := NewPool([]string{"http://10.0.2.1:8081", "http://10.0.2.2:8081", "http://10.0.2.3:8081"}, time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	for _, u := range p.Upstreams() {
		p.markUp(u)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if p.pick(nil) == nil {
				b.Fatal("no upstream picked among three healthy ones")
			}
		}
	})
}

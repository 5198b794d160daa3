// Command nethttp is the benchmarks' reference for what Go's net/http can do on
// this machine at all: it answers every request with one prepared body and
// the same headers as the web role's home page, and does nothing else (no
// routing, metrics, logs or forwarded headers). The web role can't be faster
// than this; the gap between the two is what our own code costs, and the gap
// between this and Nginx is what net/http costs.
//
//	go run ./bench/nethttp -listen 127.0.0.1:9000 -gzip home.html.gz
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"strconv"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9000", "address to serve on")
	file := flag.String("gzip", "", "a gzip-compressed HTML body to serve")
	flag.Parse()
	body, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	length := []string{strconv.Itoa(len(body))}
	fixed := map[string][]string{
		"Content-Type":     {"text/html; charset=utf-8"},
		"Content-Encoding": {"gzip"},
		"Cache-Control":    {"private, no-cache"},
		"Etag":             {`"nethttp-gz"`},
		"Vary":             {"Accept-Language, Cookie"},
	}
	log.Fatal(http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range fixed {
			h[k] = v
		}
		h["Content-Length"] = length
		w.Write(body)
	})))
}

// Command nethttp is the benchmarks' reference for what Go's net/http can do on
// this machine at all: it answers every request with one prepared body and
// one set of headers, and does nothing else (no routing, metrics, logs or
// forwarded headers). The web role can't be faster than this; the gap
// between the two is what our own code costs, and the gap between this and
// Nginx is what net/http costs.
//
//	go run ./bench/nethttp -listen 127.0.0.1:9000 -gzip home.html.gz
//	go run ./bench/nethttp -listen 127.0.0.1:9000 -response page.http
//
// -gzip serves a gzip-compressed HTML body with the web role's home page
// headers (bench/web-vs-nginx). -response serves an HTTP response as curl
// -i saved it: its header lines (less the status line and Content-Length)
// and its body, byte for byte (bench/cache: a page as the web role's cache
// serves it, with every header it carries).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"log"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9000", "address to serve on")
	gzipFile := flag.String("gzip", "", "a gzip-compressed HTML body to serve")
	response := flag.String("response", "", "a saved HTTP response (curl -i) whose headers and body to serve")
	flag.Parse()
	var (
		header http.Header
		body   []byte
		err    error
	)
	switch {
	case *response != "":
		header, body, err = savedResponse(*response)
	case *gzipFile != "":
		body, err = os.ReadFile(*gzipFile)
		header = http.Header{
			"Content-Type":     {"text/html; charset=utf-8"},
			"Content-Encoding": {"gzip"},
			"Cache-Control":    {"private, no-cache"},
			"Etag":             {`"nethttp-gz"`},
			"Vary":             {"Accept-Language, Cookie"},
		}
	default:
		log.Fatal("nethttp: -gzip or -response is needed")
	}
	if err != nil {
		log.Fatal(err)
	}
	header["Content-Length"] = []string{strconv.Itoa(len(body))}
	log.Fatal(http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range header {
			h[k] = v
		}
		w.Write(body)
	})))
}

// savedResponse reads a response as curl -i writes it: the status line,
// header lines, a blank line, the body.
func savedResponse(name string) (http.Header, []byte, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, nil, err
	}
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	if _, err := r.ReadLine(); err != nil { // the status line
		return nil, nil, err
	}
	mime, err := r.ReadMIMEHeader()
	if err != nil {
		return nil, nil, err
	}
	header := http.Header(mime)
	delete(header, "Content-Length")
	end := bytes.Index(data, []byte("\r\n\r\n"))
	return header, data[end+4:], nil
}

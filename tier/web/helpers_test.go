package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/guestbook/guestbook/internal/httpcheck"
)

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	return do(t, "GET", url, header)
}

// do sends one request with exactly the given headers: the client neither
// asks for nor undoes gzip on its own, and does not follow redirects.
func do(t *testing.T, method, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(client.CloseIdleConnections)
	return send(t, client, method, url, header)
}

func send(t *testing.T, client *http.Client, method, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(body)
}

// rawGet sends target with the request line written by hand.
func rawGet(t *testing.T, srv *httptest.Server, target string) (int, http.Header, string) {
	t.Helper()
	status, h, body := httpcheck.RawGet(t, srv.Listener.Addr().String(), target)
	return status, h, string(body)
}

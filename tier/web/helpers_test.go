package web_test

import (
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
	return httpcheck.Do(t, client, httpcheck.NewRequest(t, method, url, header))
}

// rawGet sends target with the request line written by hand.
func rawGet(t *testing.T, srv *httptest.Server, target string) (int, http.Header, string) {
	t.Helper()
	status, h, body := httpcheck.RawGet(t, srv.Listener.Addr().String(), target)
	return status, h, string(body)
}

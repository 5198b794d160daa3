package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// A request whose client has gone (the web tier gave up on the attempt) is
// no server error: 499, nothing logged.
func TestARequestWhoseClientWentAwayIs499AndNotLogged(t *testing.T) {
	var log bytes.Buffer
	s := &Server{opts: Options{Log: slog.New(slog.NewTextHandler(&log, nil)), Observer: noObserver{}}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("POST", "/visitor/api/entries", nil).WithContext(ctx)
	w := httptest.NewRecorder()
	s.fail(w, r, fmt.Errorf("create entry: %w", context.Canceled))
	if w.Code != statusClientClosed {
		t.Errorf("status %d, want 499", w.Code)
	}
	if strings.Contains(log.String(), "request failed") {
		t.Errorf("logged as a failure: %s", log.String())
	}
}

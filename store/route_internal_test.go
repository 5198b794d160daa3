package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

// A replica cut off shows as a dial that times out. That error also matches
// context.DeadlineExceeded, and must still count as a lost connection, or a
// read would not move on to the next server and the client would get a 503.
func TestADialTimeoutIsALostConnectionButTheCallersOwnDeadlineIsNot(t *testing.T) {
	_, dialErr := (&net.Dialer{Timeout: time.Nanosecond}).Dial("tcp", "127.0.0.1:9")
	if dialErr == nil || !errors.Is(dialErr, context.DeadlineExceeded) {
		t.Skipf("could not make a dial time out here (got %v)", dialErr)
	}
	if !connectionLost(fmt.Errorf("list entries: %w", dialErr)) {
		t.Errorf("connectionLost(%v) = false, want true: the server did not answer", dialErr)
	}
	for _, err := range []error{context.Canceled, context.DeadlineExceeded, fmt.Errorf("query: %w", context.Canceled)} {
		if connectionLost(err) {
			t.Errorf("connectionLost(%v) = true, want false: the caller gave up, the server said nothing", err)
		}
	}
}

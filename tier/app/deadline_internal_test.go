package app

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/guestbook/guestbook/tier/hops"
)

func TestOnlyAPositiveWholeNumberOfMillisecondsIsABudget(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"900", 900 * time.Millisecond, true},
		{"1", time.Millisecond, true},
		{"30000", 30 * time.Second, true},
		{"86400000", maxBudget, true}, // a day: capped
		{"99999999999", 0, false},     // past 32 bits
		{"", 0, false},
		{"0", 0, false},
		{"-5", 0, false},
		{"+5", 0, false},
		{" 5", 0, false},
		{"1.5", 0, false},
		{"1e3", 0, false},
		{"0x10", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set(hops.HeaderTimeout, tt.value)
			}
			got, ok := budgetOf(h)
			if got != tt.want || ok != tt.ok {
				t.Errorf("budgetOf(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestTheBudgetBoundsTheRequestsContextLessAReserve(t *testing.T) {
	var left time.Duration
	var bounded bool
	h := withBudget(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var dl time.Time
		dl, bounded = r.Context().Deadline()
		left = time.Until(dl)
	}))
	req := httptest.NewRequest("GET", "/visitor/api/entries", nil)
	req.Header.Set(hops.HeaderTimeout, "1000")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if !bounded || left > 900*time.Millisecond || left < 850*time.Millisecond {
		t.Errorf("with a 1000ms budget the context has %v left (bounded %v), want 900ms: the budget less a 100ms reserve", left, bounded)
	}
	req.Header.Set(hops.HeaderTimeout, "soon")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if bounded {
		t.Errorf("a budget that is not a number bounded the request (%v left)", left)
	}
}

func TestTheReserveIsATenthBetween5And100ms(t *testing.T) {
	for budget, want := range map[time.Duration]time.Duration{
		20 * time.Millisecond:  5 * time.Millisecond,
		300 * time.Millisecond: 30 * time.Millisecond,
		time.Second:            100 * time.Millisecond,
		30 * time.Second:       100 * time.Millisecond,
	} {
		if got := answerReserve(budget); got != want {
			t.Errorf("answerReserve(%v) = %v, want %v", budget, got, want)
		}
	}
}

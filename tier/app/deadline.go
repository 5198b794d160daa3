package app

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/guestbook/guestbook/tier/hops"
)

// The app tier's half of nested deadlines. The web tier says in
// Guestbook-Timeout-Ms how long it will wait for this attempt; the request's
// context is bounded by that, less a reserve to answer in, and the store
// bounds every query by what the context has left (and by
// database.query_timeout). So a frozen database makes this instance answer
// 503 before the web tier gives up, rather than look frozen itself. The
// header is believed from anyone: a client that asks for less time only
// hurries its own request, and one that asks for more gets at most
// maxBudget and still meets every query's own deadline.

// maxBudget caps the budget a header may give: the process's shutdown
// grace, which no request outlives anyway.
const maxBudget = 30 * time.Second

// budgetOf is the budget h gives: a positive whole number of milliseconds,
// as the web tier writes it, capped at maxBudget. Anything else (empty, a
// sign, a fraction, a word, zero) gives none, and the request runs as if it
// had no header.
func budgetOf(h http.Header) (time.Duration, bool) {
	v := h.Get(hops.HeaderTimeout)
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return min(time.Duration(n)*time.Millisecond, maxBudget), true
}

// answerReserve is the part of a budget kept to write the answer and for
// it to cross the network: a tenth, between 5 and 100 ms.
func answerReserve(budget time.Duration) time.Duration {
	return min(max(budget/10, 5*time.Millisecond), 100*time.Millisecond)
}

// withBudget bounds each request's context by its Guestbook-Timeout-Ms
// budget less the reserve (a budget within the reserve leaves no time: its
// queries fail at once, and it answers 503 at once).
func withBudget(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		budget, ok := budgetOf(r.Header)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), budget-answerReserve(budget))
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

package secureform

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// testNow is the tests' time: 5 January 2026.
var testNow = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: testNow} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// form returns a submission body.
func form(number, expiry, cvc, name string) []byte {
	return fmt.Appendf(nil, `{"number":%q,"expiry":%q,"cvc":%q,"name":%q}`, number, expiry, cvc, name)
}

// mustCard parses a valid submission.
func mustCard(t testing.TB, number, expiry, cvc, name string) *Card {
	t.Helper()
	c, err := ParseSubmission(form(number, expiry, cvc, name), testNow)
	if err != nil {
		t.Fatalf("ParseSubmission(%s): %v", number, err)
	}
	return c
}

// zeroed reports whether every byte of d is zero.
func zeroed(d *data) bool {
	var z data
	return *d == z
}

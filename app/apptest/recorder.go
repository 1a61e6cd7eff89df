package apptest

import (
	"context"
	"sync"

	"gorm.io/gorm"
)

// Recorder is an auditor of one domain's events (account.Event, authz.Event, …) that keeps them
// in memory, for tests that check what was audited. Set Fail to make every Record fail (to test
// that audited actions fail closed).
type Recorder[E any] struct {
	mu     sync.Mutex
	events []E
	Fail   error
}

// Record keeps e, or returns Fail.
func (r *Recorder[E]) Record(_ context.Context, _ *gorm.DB, e E) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	r.events = append(r.events, e)
	return nil
}

// Events returns the events recorded so far.
func (r *Recorder[E]) Events() []E {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]E(nil), r.events...)
}

// Filter returns the recorded events keep accepts, in order.
func (r *Recorder[E]) Filter(keep func(E) bool) []E {
	var out []E
	for _, e := range r.Events() {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// Reset forgets the recorded events.
func (r *Recorder[E]) Reset() {
	r.mu.Lock()
	r.events = nil
	r.mu.Unlock()
}

package captcha

import (
	"context"
	"sync"
	"time"
)

// DefaultMemoryCapacity is a MemoryStore's default bound on live challenges.
const DefaultMemoryCapacity = 10_000

// MemoryStore is a bounded in-memory Store for tests and single-node
// installs. It holds at most its capacity of live challenges (about 100
// bytes each); expired ones are dropped as new ones arrive, oldest first.
type MemoryStore struct {
	mu       sync.Mutex
	now      func() time.Time
	capacity int
	entries  map[string]time.Time
	// order lists IDs by creation, for dropping expired entries without a
	// full scan; it may still name consumed IDs, which prune skips.
	order []queued
}

type queued struct {
	id  string
	exp time.Time
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns a MemoryStore holding at most capacity live
// challenges (zero or less means DefaultMemoryCapacity), using now as its
// clock (nil means time.Now).
func NewMemoryStore(capacity int, now func() time.Time) *MemoryStore {
	if capacity <= 0 {
		capacity = DefaultMemoryCapacity
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, capacity: capacity, entries: make(map[string]time.Time)}
}

// Create records a challenge, first dropping expired ones; it returns
// ErrFull at capacity and ErrExists for a known ID.
func (m *MemoryStore) Create(_ context.Context, id string, expiresAt time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prune(m.now())
	if _, ok := m.entries[id]; ok {
		return ErrExists
	}
	if len(m.entries) >= m.capacity {
		return ErrFull
	}
	m.entries[id] = expiresAt
	m.order = append(m.order, queued{id: id, exp: expiresAt})
	if len(m.order) > 2*m.capacity {
		m.compact()
	}
	return nil
}

// Lookup returns a challenge's expiry or ErrNotFound.
func (m *MemoryStore) Lookup(_ context.Context, id string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.entries[id]
	if !ok {
		return time.Time{}, ErrNotFound
	}
	return exp, nil
}

// Consume removes a challenge and returns its expiry, or ErrNotFound.
func (m *MemoryStore) Consume(_ context.Context, id string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.entries[id]
	if !ok {
		return time.Time{}, ErrNotFound
	}
	delete(m.entries, id)
	return exp, nil
}

// Len returns the number of challenges held, expired or not.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// prune drops expired challenges from the front of the creation order.
// Challenges share one TTL, so creation order is expiry order; after a
// clock step backwards pruning merely waits.
func (m *MemoryStore) prune(now time.Time) {
	n := 0
	for ; n < len(m.order) && !now.Before(m.order[n].exp); n++ {
		q := m.order[n]
		if exp, ok := m.entries[q.id]; ok && exp.Equal(q.exp) {
			delete(m.entries, q.id)
		}
	}
	clear(m.order[:n]) // release the IDs; the array is reclaimed as append grows it
	m.order = m.order[n:]
}

// compact drops consumed IDs from the creation order, so it stays within
// twice the capacity however many challenges are solved.
func (m *MemoryStore) compact() {
	kept := make([]queued, 0, len(m.entries))
	for _, q := range m.order {
		if exp, ok := m.entries[q.id]; ok && exp.Equal(q.exp) {
			kept = append(kept, q)
		}
	}
	m.order = kept
}

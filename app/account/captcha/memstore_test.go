package captcha

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestMemoryStoreBounded(t *testing.T) {
	c := newClock()
	m := NewMemoryStore(3, c.Now)
	ctx := context.Background()
	exp := func() time.Time { return c.Now().Add(DefaultTTL) }
	for i := range 3 {
		if err := m.Create(ctx, fmt.Sprint("id", i), exp()); err != nil {
			t.Fatalf("Create %d: %v", i, err)
		}
	}
	if err := m.Create(ctx, "id3", exp()); !errors.Is(err, ErrFull) {
		t.Fatalf("Create beyond capacity: got %v, want ErrFull", err)
	}
	if err := m.Create(ctx, "id0", exp()); !errors.Is(err, ErrExists) {
		t.Fatalf("Create of a held ID: got %v, want ErrExists", err)
	}
	// Consuming frees a place.
	if _, err := m.Consume(ctx, "id1"); err != nil {
		t.Fatalf("Consume: %v", err)
	}
	if err := m.Create(ctx, "id3", exp()); err != nil {
		t.Fatalf("Create after Consume: %v", err)
	}
	// Expiry frees the rest.
	c.Advance(DefaultTTL)
	if err := m.Create(ctx, "id4", exp()); err != nil {
		t.Fatalf("Create after the others expired: %v", err)
	}
	if got := m.Len(); got != 1 {
		t.Errorf("Len after expiry: got %d, want 1", got)
	}
	if _, err := m.Lookup(ctx, "id0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup of a pruned challenge: got %v, want ErrNotFound", err)
	}
}

func TestMemoryStoreExists(t *testing.T) {
	m := NewMemoryStore(5, nil)
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	if err := m.Create(ctx, "a", exp); err != nil {
		t.Fatal(err)
	}
	if err := m.Create(ctx, "a", exp); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate Create: got %v, want ErrExists", err)
	}
	got, err := m.Lookup(ctx, "a")
	if err != nil || !got.Equal(exp) {
		t.Errorf("Lookup: got %v, %v, want %v", got, err, exp)
	}
	if _, err := m.Consume(ctx, "a"); err != nil {
		t.Errorf("Consume: %v", err)
	}
	if _, err := m.Consume(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Consume: got %v, want ErrNotFound", err)
	}
}

// TestMemoryStoreOrderStaysBounded solves many challenges without any
// expiring: the creation-order index must not grow without bound.
func TestMemoryStoreOrderStaysBounded(t *testing.T) {
	c := newClock()
	const capacity = 4
	m := NewMemoryStore(capacity, c.Now)
	ctx := context.Background()
	for i := range 1000 {
		id := fmt.Sprint("c", i)
		if err := m.Create(ctx, id, c.Now().Add(DefaultTTL)); err != nil {
			t.Fatalf("Create %d: %v", i, err)
		}
		if _, err := m.Consume(ctx, id); err != nil {
			t.Fatalf("Consume %d: %v", i, err)
		}
	}
	m.mu.Lock()
	n := len(m.order)
	m.mu.Unlock()
	if n > 2*capacity {
		t.Errorf("order index: got %d entries, want at most %d", n, 2*capacity)
	}
}

func BenchmarkIssueAndSolve(b *testing.B) {
	f := newFixture(b, 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, err := f.svc.Issue(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.svc.Solve(ctx, c.ID, c.Answer); err != nil {
			b.Fatal(err)
		}
	}
}

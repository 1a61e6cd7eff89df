package passhash

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fill takes every hashing slot, as a storm of in-flight derivations would.
func fill(t *testing.T, h *Hasher) {
	t.Helper()
	for range cap(h.slots) {
		if err := h.acquire(context.Background()); err != nil {
			t.Fatalf("acquire: %v", err)
		}
	}
}

// drain gives back every slot that fill took.
func drain(h *Hasher) {
	for range cap(h.slots) {
		h.release()
	}
}

// waitFor polls cond until it holds or a second passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBusyWhenQueueFull(t *testing.T) {
	const conc, queue = 2, 3
	h := newTestHasher(t, Config{MaxConcurrent: conc, MaxWaiting: queue})
	ctx := context.Background()
	enc, err := h.Hash(ctx, []byte("queued-password"))
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	fill(t, h)

	// Queue exactly MaxWaiting callers behind the full pool.
	var wg sync.WaitGroup
	results := make(chan error, queue)
	for range queue {
		wg.Go(func() {
			ok, _, err := h.Verify(ctx, enc, []byte("queued-password"))
			if err == nil && !ok {
				err = errors.New("queued Verify rejected the right password")
			}
			results <- err
		})
	}
	waitFor(t, "callers to queue", func() bool { return h.Stats().Waiting == queue })

	tests := []struct {
		name string
		call func() error
	}{
		{"Hash", func() error { _, err := h.Hash(ctx, []byte("pw")); return err }},
		{"Verify", func() error { _, _, err := h.Verify(ctx, enc, []byte("pw")); return err }},
		{"DummyVerify", func() error { return h.DummyVerify(ctx, []byte("pw")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := tt.call()
			if !errors.Is(err, ErrBusy) {
				t.Fatalf("got %v, want ErrBusy", err)
			}
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Errorf("ErrBusy took %v, want an immediate answer", d)
			}
		})
	}
	st := h.Stats()
	if st.Rejected != uint64(len(tests)) {
		t.Errorf("Rejected: got %d, want %d", st.Rejected, len(tests))
	}
	if st.InFlight != conc || st.Waiting != queue {
		t.Errorf("Stats: got in flight %d waiting %d, want %d and %d", st.InFlight, st.Waiting, conc, queue)
	}

	// Once the storm passes, the queued callers are served.
	drain(h)
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Errorf("queued caller: %v", err)
		}
	}
	if st := h.Stats(); st.InFlight != 0 || st.Waiting != 0 {
		t.Errorf("after the storm: got %+v, want nothing in flight or waiting", st)
	}
}

func TestContextEndsWhileQueued(t *testing.T) {
	h := newTestHasher(t, Config{MaxConcurrent: 1, MaxWaiting: 4})
	enc, err := h.Hash(context.Background(), []byte("pw-for-cancel"))
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	fill(t, h)
	defer drain(h)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	timedOut, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"already cancelled", cancelled, context.Canceled},
		{"deadline while queued", timedOut, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := h.Verify(tt.ctx, enc, []byte("pw-for-cancel"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: got %v, want %v", err, tt.want)
			}
		})
	}
	if st := h.Stats(); st.Waiting != 0 {
		t.Errorf("Waiting after cancellation: got %d, want 0", st.Waiting)
	}

	// A caller cancelled while queued must not keep its place: cancel one
	// mid-wait and check a later caller still gets the slot.
	ctx, cancel3 := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := h.Hash(ctx, []byte("x")); done <- err }()
	waitFor(t, "the caller to queue", func() bool { return h.Stats().Waiting == 1 })
	cancel3()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash cancelled while queued: got %v, want context.Canceled", err)
	}
	h.release() // free one slot
	if _, err := h.Hash(context.Background(), []byte("y")); err != nil {
		t.Fatalf("Hash after the cancelled caller left: %v", err)
	}
	if err := h.acquire(context.Background()); err != nil { // give fill's slot back for drain
		t.Fatalf("acquire: %v", err)
	}
}

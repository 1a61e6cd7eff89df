package chat

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestDeliveriesInOrder: each conversation's steps run one at a time in the order they were
// handed over, while another conversation's run beside them; wait returns once all are done,
// and with ctx's error when ctx ends first.
func TestDeliveriesInOrder(t *testing.T) {
	d := newDeliveries()
	var mu sync.Mutex
	ran := map[string][]int{}
	running := map[string]bool{}
	release := make(chan struct{})
	const steps = 50
	for i := range steps {
		for _, conv := range []string{"a", "b"} {
			d.add(conv, func() {
				mu.Lock()
				if running[conv] {
					t.Errorf("two steps of %s ran at once", conv)
				}
				running[conv] = true
				mu.Unlock()
				if i == 0 && conv == "a" {
					<-release // a's first step holds up a's queue only
				}
				mu.Lock()
				running[conv] = false
				ran[conv] = append(ran[conv], i)
				mu.Unlock()
			})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := d.wait(ctx); err == nil {
		t.Fatal("wait returned while a step was held up")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		done := len(ran["b"])
		mu.Unlock()
		if done == steps {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b ran %d steps while a was held up, want %d", done, steps)
		}
	}
	close(release)
	if err := d.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := make([]int, steps)
	for i := range want {
		want[i] = i
	}
	for _, conv := range []string{"a", "b"} {
		if !slices.Equal(ran[conv], want) {
			t.Errorf("%s ran %v, want %v", conv, ran[conv], want)
		}
	}
	if err := d.wait(context.Background()); err != nil {
		t.Fatalf("wait on an idle queue = %v", err)
	}
	d.add("c", func() {})
	if err := d.wait(context.Background()); err != nil {
		t.Fatalf("wait after a new step = %v", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.pending) != 0 || d.idle != nil {
		t.Fatalf("queues left behind: %s", fmt.Sprint(d.pending))
	}
}

package chat

import (
	"context"
	"sync"
)

// deliveries runs the work that follows a commit and must not hold up the sender's ack: the
// fan-out of a message and the amends it causes. Each conversation's steps run one at a time,
// in the order they were handed over, on a goroutine of the conversation's own that ends when
// its queue is empty; different conversations run side by side. Running a conversation's
// amends one after the other keeps two of them from resealing the same message at once.
type deliveries struct {
	mu      sync.Mutex
	pending map[string][]func()
	// idle is closed when pending becomes empty; nil while it is.
	idle chan struct{}
}

func newDeliveries() *deliveries {
	return &deliveries{pending: map[string][]func(){}}
}

// add queues step behind the conversation's earlier steps.
func (d *deliveries) add(convID string, step func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	steps, running := d.pending[convID]
	d.pending[convID] = append(steps, step)
	if d.idle == nil {
		d.idle = make(chan struct{})
	}
	if !running {
		go d.run(convID)
	}
}

// run works through a conversation's queue until it is empty.
func (d *deliveries) run(convID string) {
	for {
		d.mu.Lock()
		steps := d.pending[convID]
		if len(steps) == 0 {
			delete(d.pending, convID)
			if len(d.pending) == 0 && d.idle != nil {
				close(d.idle)
				d.idle = nil
			}
			d.mu.Unlock()
			return
		}
		step := steps[0]
		d.pending[convID] = steps[1:]
		d.mu.Unlock()
		step()
	}
}

// wait returns once no step is queued or running, or with ctx's error when ctx ends first.
func (d *deliveries) wait(ctx context.Context) error {
	for {
		d.mu.Lock()
		idle := d.idle
		d.mu.Unlock()
		if idle == nil {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// later queues step behind the deliveries of the conversation handed over so far. step's
// context keeps ctx's values without its cancellation: the request that caused it may be over.
func (s *Service) later(ctx context.Context, convID string, step func(ctx context.Context)) {
	ctx = context.WithoutCancel(ctx)
	s.deliveries.add(convID, func() { step(ctx) })
}

package chat

import (
	"time"

	"github.com/parleyhq/parley/app/chat/protocol"
)

// Metrics receives the engine's measurements for the node's monitoring (GET /metrics). It is
// called on the message path, so an implementation must be cheap and safe for concurrent use. It
// is told kinds and durations only: never a tenant, a conversation, a person or any text. A
// Service built without one records nothing.
type Metrics interface {
	// MessageStored is told of each message stored and committed (not of a duplicate): the
	// sender's kind (SenderVisitor, SenderAgent) and the time from the engine taking the message
	// to its commit, after which the transport writes the ack.
	MessageStored(senderKind string, took time.Duration)
	// MessageDelivered is told of each message event a live connection's follower hands to its
	// connection: the receiver's kind and how long after the message was stored.
	MessageDelivered(receiverKind string, after time.Duration)
	// BatchCommitted is told of each group-commit transaction: how many messages it stored.
	BatchCommitted(size int)
}

// noMetrics records nothing.
type noMetrics struct{}

func (noMetrics) MessageStored(string, time.Duration)    {}
func (noMetrics) MessageDelivered(string, time.Duration) {}
func (noMetrics) BatchCommitted(int)                     {}

var _ Metrics = noMetrics{}

// stored reports a stored message to the metrics and returns res.
func (s *Service) stored(a Actor, since time.Time, res PostResult) PostResult {
	if !res.Duplicate {
		s.metrics.MessageStored(a.Kind, s.now().Sub(since))
	}
	return res
}

// delivered reports the message events of frames, handed to a live connection of v, to the
// metrics.
func (s *Service) delivered(v viewer, frames []any) {
	var now time.Time
	for _, fr := range frames {
		ev, ok := fr.(protocol.Event)
		if !ok || ev.Kind != KindMessage {
			continue
		}
		if now.IsZero() {
			now = s.now()
		}
		s.metrics.MessageDelivered(v.kind, max(now.Sub(ev.At), 0))
	}
}

// PendingDeliveries is how many deliveries (fan-outs, amends) are queued behind the acks of their
// messages and not yet started, across all conversations of this node.
func (s *Service) PendingDeliveries() int { return s.deliveries.length() }

// length counts the queued steps.
func (d *deliveries) length() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, steps := range d.pending {
		n += len(steps)
	}
	return n
}

package chat

import (
	"context"
	"time"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/app/tenant"
)

// pollBatch is the most events one long poll returns.
const pollBatch = 100

// EventBatch answers a long poll (docs/chat-protocol.md §3.1).
type EventBatch struct {
	Events  []protocol.Event `json:"events"`
	Signals []any            `json:"signals"`
	LastSeq int64            `json:"last_seq"`
	Status  string           `json:"status"`
	More    bool             `json:"more"`
}

// Poll is the long-polling fallback of the visitor socket: after is the client's cursor (the
// visitor's numbering), events come from the database in seq order, and an empty answer waits up
// to wait for the next event, returning the typing and read signals that arrived meanwhile. Each
// poll takes a token of the visitor's and the address's poll budgets (a RateError otherwise); a
// banned visitor or address is ErrBanned. When ctx ends while it waits, Poll returns ctx's
// error.
func (s *Service) Poll(ctx context.Context, site tenant.Site, conv Conversation, visitorID, ip string, after int64, wait time.Duration) (EventBatch, error) {
	if err := allow(s.visitorPolls, s.ipConns, visitorID, ip); err != nil {
		return EventBatch{}, err
	}
	if banned, err := s.Banned(ctx, site.TenantID, visitorID, ip); err != nil {
		return EventBatch{}, err
	} else if banned {
		return EventBatch{}, ErrBanned
	}
	_ = s.visitors.Seen(ctx, visitorID, ip)
	me := viewer{kind: SenderVisitor, id: visitorID}
	n := &names{conv: conv}
	evs, more, _, err := s.eventsAfter(ctx, n, me, after, pollBatch)
	if err != nil {
		return EventBatch{}, err
	}
	signals := []any{}
	if len(evs) == 0 && wait > 0 {
		sub := s.hub.Subscribe(hub.ConversationTopic(conv.ID))
		defer sub.Close()
		// Read again now that the subscription is up, so an event committed in between is seen.
		if evs, more, _, err = s.eventsAfter(ctx, n, me, after, pollBatch); err != nil {
			return EventBatch{}, err
		}
		timer := time.NewTimer(wait)
		defer timer.Stop()
		var read int64 // the last read receipt given: only a later one is given (see cursor.read)
	waiting:
		for len(evs) == 0 {
			select {
			case <-ctx.Done():
				return EventBatch{}, ctx.Err()
			case <-timer.C:
				break waiting
			case <-sub.C():
				sigs, overflow := sub.Drain()
				event := overflow
				for _, sig := range sigs {
					switch {
					case sig.Kind == hub.KindEvent && sig.Seq > after:
						event = true
					case sig.Kind == hub.KindTyping && sig.SenderKind != SenderVisitor:
						signals = append(signals, protocol.Typing{Type: protocol.TypeTyping, ConversationID: conv.ID, SenderKind: sig.SenderKind, Typing: sig.Typing})
					case sig.Kind == hub.KindRead && sig.SenderKind != SenderVisitor:
						// The receipt names a seq of the log; the visitor counts in its own view.
						seq, err := s.store.visitorSeqAt(ctx, conv.ID, sig.Seq)
						if err != nil {
							return EventBatch{}, err
						}
						if seq <= read {
							continue
						}
						read = seq
						signals = append(signals, protocol.Read{Type: protocol.TypeRead, ConversationID: conv.ID, ReaderKind: sig.SenderKind, Seq: seq})
					}
				}
				if event {
					if evs, more, _, err = s.eventsAfter(ctx, n, me, after, pollBatch); err != nil {
						return EventBatch{}, err
					}
				} else if len(signals) > 0 {
					break waiting
				}
			}
		}
	}
	last := after
	if len(evs) > 0 {
		last = evs[len(evs)-1].Seq
	}
	status := conv.Status
	if cur, err := s.store.conversation(ctx, conv.TenantID, conv.ID); err == nil {
		status = cur.Status
		if status == StatusQueued || status == StatusAssigned {
			// While it waits, every answer tells the visitor their place in the queue.
			q, err := s.QueueInfo(ctx, cur)
			if err != nil {
				return EventBatch{}, err
			}
			signals = append(signals, q)
		}
	}
	if evs == nil {
		evs = []protocol.Event{}
	}
	return EventBatch{Events: evs, Signals: signals, LastSeq: last, Status: status, More: more}, nil
}

package chathttp_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/compliance/pan"
)

// TestAckBeforeAmend: a message that completes a card number split over the sender's messages is
// acked as soon as it is stored; the amend of the earlier message (open, re-mask, re-seal, a
// second transaction) is delivered after the ack, on the sender's socket too — and the agent
// still receives the message and its amend, in seq order.
func TestAckBeforeAmend(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		for i, halves := range [][2]string{{"4111 1111", "1111 1111"}, {"5555 5555", "5555 4444"}, {"3782 822463", "10005"}} {
			ch := openChat(t, e, n) // a chat of its own: no half joins another round's
			first, second := "first-"+string(rune('a'+i)), "second-"+string(rune('a'+i))
			ch.visitor.send(map[string]any{"type": "message", "key": first, "text": halves[0]})
			firstAck := ch.visitor.until("ack of the first half", func(f frame) bool { return f.Type == "ack" && f.Key == first })
			ch.visitor.until("the first half", func(f frame) bool { return f.Type == "event" && f.Key == first })
			ch.agent.events(1)

			ch.visitor.send(map[string]any{"type": "message", "key": second, "text": halves[1]})
			// The frames in the order the socket delivered them, up to the ack and the amend.
			ackAt, amendAt := -1, -1
			var amend frame
			for at := 0; ackAt < 0 || amendAt < 0; at++ {
				f := ch.visitor.next()
				switch {
				case f.Type == "ack" && f.Key == second:
					ackAt = at
				case f.Type == "event" && f.Kind == "amend":
					amendAt, amend = at, f
				}
			}
			if ackAt > amendAt {
				t.Fatalf("round %d: the sender's ack came after the amend (frames %d and %d); want the ack first", i, ackAt, amendAt)
			}
			if amend.TargetSeq != firstAck.Seq || pan.Contains(strings.ReplaceAll(amend.Text, " ", "")+halves[1]) {
				t.Fatalf("round %d: amend = %+v, want the first half (seq %d) re-masked", i, amend, firstAck.Seq)
			}
			evs := ch.agent.events(2)
			if evs[0].Kind != "message" || evs[1].Kind != "amend" || evs[1].Seq != evs[0].Seq+1 {
				t.Fatalf("round %d: agent received %+v, want the second half, then the amend", i, evs)
			}
		}
	})
}

package chathttp_test

import (
	"fmt"
	"testing"
)

// BenchmarkTeamMessage measures team messages per second on one node: a colleague's
// team_message frame is decoded, sanitized, PAN-masked, sealed under the thread's data key,
// stored with the thread's next seq, and delivered to both members' sockets. One op is one
// message, sent with up to 64 in flight and counted when the receiver has it.
func BenchmarkTeamMessage(b *testing.B) {
	benchDialects(b, func(b *testing.B, e *env) {
		n := e.node(e.db, unlimited)
		ann, ben := e.teamAgent("Ann"), e.teamAgent("Ben")
		a, _ := n.agentSocket(b, ann, nil)
		r, _ := n.agentSocket(b, ben, nil)
		go func() {
			for range a.ch { // the sender's own copies
			}
		}()
		a.send(map[string]any{"type": "team_message", "to_user_id": ben, "key": "open", "text": "hi"})
		first := r.until("first team_event", func(f frame) bool { return f.Type == "team_event" })
		const window = 64
		text := "Can you take the chat about card 4111 1111 1111 1111? The visitor asks for a refund."
		b.ReportAllocs()
		b.ResetTimer()
		sent, got := 0, 0
		for got < b.N {
			for sent < b.N && sent-got < window {
				a.send(map[string]any{"type": "team_message", "thread_id": first.ThreadID, "key": fmt.Sprint("b-", sent), "text": text})
				sent++
			}
			if f := r.next(); f.Type == "team_event" {
				got++
			}
		}
	})
}

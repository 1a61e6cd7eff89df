package chathttp_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/protocol"
)

// TestAgentSocketClosesWhenSessionEnds: an open agent socket is closed with 4401 once its console
// session has ended (signed out, revoked, rotated by a role change, user disabled); another
// agent's socket stays open and keeps working.
func TestAgentSocketClosesWhenSessionEnds(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{SessionCheck: 50 * time.Millisecond})
		ch := openChat(t, e, n)
		other := e.fullAgent("Olga")
		og, _ := n.agentSocket(t, other, nil)
		e.signedOut.Store(other, true)
		if code, reason := og.closed(); code != protocol.CloseUnauthenticated || reason != protocol.ReasonUnauthenticated {
			t.Fatalf("signed-out agent's socket closed with %d %q, want %d %q", code, reason, protocol.CloseUnauthenticated, protocol.ReasonUnauthenticated)
		}
		// The agent whose session stands has been checked several times by now and still chats.
		ch.visitor.send(map[string]any{"type": "message", "key": "v-1", "text": "still there?"})
		if f := ch.agent.events(1)[0]; f.Text != "still there?" {
			t.Fatalf("agent got %+v, want the visitor's message", f)
		}
	})
}

package chathttp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/limit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestTeamChatTwoNodes runs two nodes on one PostgreSQL schema: Ann's socket is on one, Ben's
// on the other. Team messages and invitation outcomes cross nodes as ids only (the receiving
// node reads and opens them), each message once and in seq order.
func TestTeamChatTwoNodes(t *testing.T) {
	url := migratetest.URL(t, migrations.Postgres)
	e := newEnv(t, openURL(t, url, true), url)
	fast := chat.Limits{AgentMessages: limit.Every(time.Millisecond, 1000)}
	a := e.node(openURL(t, url, false), fast)
	b := e.node(openURL(t, url, false), fast)
	ann, ben := e.teamAgent("Ann"), e.teamAgent("Ben")
	as, _ := a.agentSocket(t, ann, nil)
	bs, _ := b.agentSocket(t, ben, nil)

	const n = 20
	for i := range n {
		m := map[string]any{"type": "team_message", "key": fmt.Sprint("k", i), "text": fmt.Sprint("note ", i)}
		if i == 0 {
			m["to_user_id"] = ben
		} else {
			m["thread_id"] = as.until("own event", func(f frame) bool { return f.Type == "team_event" && f.Key == fmt.Sprint("k", i-1) }).ThreadID
		}
		as.send(m)
	}
	for i := range n {
		f := bs.until("team_event across nodes", func(f frame) bool { return f.Type == "team_event" })
		if f.Seq != int64(i+1) || f.Text != fmt.Sprint("note ", i) || f.Key != "" {
			t.Fatalf("message %d on node B = %+v, want seq %d in order", i, f, i+1)
		}
	}

	// An invitation sent on node A is accepted through node B; the agent is told on node A.
	v := b.newVisitor(t, e)
	as.send(map[string]any{"type": "invite", "visitor_id": v.VisitorID})
	sent := as.until("invite_result", func(f frame) bool { return f.Type == "invite_result" && f.Status == "pending" })
	var conv struct {
		ConversationID string `json:"conversation_id"`
	}
	if code := do(t, "POST", b.widgetURL(e, "/invitations/"+sent.InvitationID+"/accept"), v.VisitorToken, nil, &conv); code != 201 {
		t.Fatalf("accept on node B: %d", code)
	}
	if f := as.until("accepted across nodes", func(f frame) bool { return f.Type == "invite_result" && f.Status == "accepted" }); f.ConversationID != conv.ConversationID {
		t.Errorf("invite_result %+v, want conversation %s", f, conv.ConversationID)
	}
	as.until("assigned across nodes", func(f frame) bool { return f.Type == "assigned" })
}

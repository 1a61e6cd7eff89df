package chathttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// supervisor creates a user who takes chats and monitors, whispers and joins in depts.
func (e *env) supervisor(name string, depts ...string) string {
	perms := map[string][]string{}
	for _, p := range []string{"chat.accept", "chat.monitor", "chat.whisper", "chat.join"} {
		perms[p] = depts
	}
	return e.agent(name, perms)
}

// reply waits for the answer to a supervision frame about conv: the frame of type want, or an
// error frame (returned as is).
func (c *client) reply(conv, want string) frame {
	c.t.Helper()
	return c.until(want, func(f frame) bool {
		return (f.Type == want || f.Type == "error") && (f.ConversationID == conv || (f.Conversation != nil && f.Conversation.ConversationID == conv))
	})
}

// auditDetails returns the details of the recorded audit events of action.
func auditDetails(t *testing.T, e *env, action audit.Action) []map[string]string {
	t.Helper()
	var rows []string
	if err := migratetest.Beneath(t, e.db).Gorm.Raw("SELECT details FROM test_audit WHERE action = ?", string(action)).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]string, 0, len(rows))
	for _, r := range rows {
		var d map[string]string
		if err := json.Unmarshal([]byte(r), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestMonitorUnseen has a supervisor watch a live chat: the history is replayed and new events
// arrive exactly once, the visitor sees no trace of it, the start is audited without content,
// and unmonitor stops the delivery.
func TestMonitorUnseen(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		grace := e.supervisor("Grace", e.cards.ID)
		sup, _ := n.agentSocket(t, grace, nil)

		sup.send(map[string]any{"type": "monitor", "conversation_id": ch.conv})
		if f := sup.reply(ch.conv, "supervising"); f.Type != "supervising" || f.Conversation.LastSeq != 2 {
			t.Fatalf("monitor answered %+v, want supervising at seq 2", f)
		}
		hist := sup.events(2)
		checkSeqs(t, "monitor replay", hist, 0)
		if hist[1].Event != "joined" || hist[1].Sender.Name != "Bob" {
			t.Fatalf("replay = %+v, want Bob's joined event", hist)
		}

		ch.visitor.send(map[string]any{"type": "message", "key": "v-1", "text": "my card was declined"})
		ch.visitor.events(1)
		ch.agent.events(1)
		if got := sup.events(1)[0]; got.Seq != 3 || got.Text != "my card was declined" || got.Key != "" {
			t.Fatalf("monitor got %+v, want the visitor's message at seq 3", got)
		}
		ch.agent.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "a-1", "text": "Let me check."})
		if got := sup.events(1)[0]; got.Seq != 4 || got.Sender.Name != "Bob" {
			t.Fatalf("monitor got %+v, want Bob's answer at seq 4", got)
		}
		if got := ch.visitor.events(1)[0]; got.Seq != 4 {
			t.Fatalf("visitor got %+v, want seq 4", got)
		}
		// The visitor sees nothing of the supervisor: no event, no typing, no read receipt.
		sup.send(map[string]any{"type": "typing", "conversation_id": ch.conv, "typing": true})
		sup.send(map[string]any{"type": "read", "conversation_id": ch.conv, "seq": 4})
		ch.visitor.quiet(300*time.Millisecond, "event", "typing", "read")

		if got := e.audit.count(audit.ActionChatMonitor); got != 1 {
			t.Fatalf("chat.monitor audit records = %d, want 1", got)
		}
		for _, d := range auditDetails(t, e, audit.ActionChatMonitor) {
			if d["mode"] != "monitor" || d["department"] != e.cards.ID || len(d) != 2 {
				t.Errorf("chat.monitor details = %v, want mode and department only", d)
			}
		}

		sup.send(map[string]any{"type": "unmonitor", "conversation_id": ch.conv})
		if f := sup.reply(ch.conv, "supervising_ended"); f.Type != "supervising_ended" || f.Reason != "requested" {
			t.Fatalf("unmonitor answered %+v, want supervising_ended (requested)", f)
		}
		ch.visitor.send(map[string]any{"type": "message", "key": "v-2", "text": "still there?"})
		ch.agent.events(1)
		sup.quiet(300*time.Millisecond, "event")
		sup.send(map[string]any{"type": "unmonitor", "conversation_id": ch.conv})
		if f := sup.reply(ch.conv, "supervising_ended"); f.Type != "error" || f.Code != "invalid_request" {
			t.Fatalf("second unmonitor answered %+v, want invalid_request", f)
		}
	})
}

// TestWhisperNeverReachesVisitor has a supervisor whisper to the agent of a live chat: the
// agent and the monitor receive it (sanitized, card number masked, exactly once, the same key
// storing it once); the visitor never does — not live, not on a reconnect's replay, not through
// the long poll — and counts its events without a hole where the whisper is. Acks and read
// receipts cross between the two numberings; the whisper is stored sealed.
func TestWhisperNeverReachesVisitor(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		grace := e.supervisor("Grace", e.cards.ID)
		sup, _ := n.agentSocket(t, grace, nil)
		sup.send(map[string]any{"type": "monitor", "conversation_id": ch.conv})
		sup.reply(ch.conv, "supervising")
		sup.events(2)

		const secret = "Offer the <b>fee refund</b>\u202E, card 4111 1111 1111 1111"
		sup.send(map[string]any{"type": "whisper", "conversation_id": ch.conv, "key": "w-1", "text": secret})
		if ack := sup.until("ack", func(f frame) bool { return f.Type == "ack" || f.Type == "error" }); ack.Type != "ack" || ack.Seq != 3 || ack.Duplicate {
			t.Fatalf("whisper answered %+v, want ack seq 3", ack)
		}
		// Sanitized (the bidi override removed, the markup kept as text) and masked.
		masked := func(text string) bool {
			return strings.HasPrefix(text, "Offer the <b>fee refund</b>, card ") && strings.Contains(text, "•") &&
				!strings.Contains(separators.ReplaceAllString(text, ""), "4111111111111111")
		}
		for who, c := range map[string]*client{"agent": ch.agent, "monitor": sup} {
			w := c.events(1)[0]
			if w.Seq != 3 || w.Kind != "whisper" || !masked(w.Text) || w.Sender.Name != "Grace" {
				t.Fatalf("%s got %+v, want the masked whisper at seq 3", who, w)
			}
			if (who == "monitor") != (w.Key == "w-1") {
				t.Fatalf("%s got key %q: only the sender sees its key", who, w.Key)
			}
		}
		sup.send(map[string]any{"type": "whisper", "conversation_id": ch.conv, "key": "w-1", "text": secret})
		if ack := sup.until("ack", func(f frame) bool { return f.Type == "ack" }); ack.Seq != 3 || !ack.Duplicate {
			t.Fatalf("whisper again = %+v, want duplicate of seq 3", ack)
		}
		sup.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "w-1", "text": "hello"})
		if f := sup.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "invalid_request" && f.Code != "forbidden" {
			t.Fatalf("message with the whisper's key = %+v, want a refusal", f)
		}
		ch.visitor.quiet(300*time.Millisecond, "event")

		// The agent answers: the visitor's view continues at 3, the log at 4.
		ch.agent.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "a-1", "text": "We can refund the fee."})
		if got := ch.visitor.events(1)[0]; got.Seq != 3 || got.Text != "We can refund the fee." {
			t.Fatalf("visitor got %+v, want the agent's answer as its seq 3", got)
		}
		if got := sup.events(1)[0]; got.Seq != 4 {
			t.Fatalf("monitor got %+v, want seq 4", got)
		}
		ch.agent.events(1)
		ch.visitor.send(map[string]any{"type": "message", "key": "v-1", "text": "Thanks"})
		if ack := ch.visitor.until("ack", func(f frame) bool { return f.Type == "ack" }); ack.Seq != 4 {
			t.Fatalf("visitor ack = %+v, want its seq 4", ack)
		}
		if got := ch.agent.events(1)[0]; got.Seq != 5 || got.Text != "Thanks" {
			t.Fatalf("agent got %+v, want seq 5", got)
		}
		ch.visitor.send(map[string]any{"type": "read", "seq": 3})
		if rd := ch.agent.until("read", func(f frame) bool { return f.Type == "read" }); rd.Seq != 4 {
			t.Fatalf("agent got read receipt %+v, want seq 4 (the visitor's 3)", rd)
		}
		ch.agent.send(map[string]any{"type": "read", "conversation_id": ch.conv, "seq": 5})
		if rd := ch.visitor.until("read", func(f frame) bool { return f.Type == "read" }); rd.Seq != 4 {
			t.Fatalf("visitor got read receipt %+v, want its seq 4", rd)
		}

		// Reconnect with a gap, and from the start: the whisper is not replayed.
		seen := ch.visitor.events(1)[0].Seq
		_ = ch.visitor.conn.CloseNow()
		sup.send(map[string]any{"type": "whisper", "conversation_id": ch.conv, "key": "w-2", "text": "second whisper while away"})
		ch.agent.events(1)
		ch.agent.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "a-2", "text": "anything else?"})
		ch.agent.events(1)
		again := n.visitorSocket(t, e, ch.id.VisitorToken, ch.conv, seen-1)
		evs := again.events(2)
		checkSeqs(t, "visitor replay", evs, seen-1)
		if evs[0].Text != "Thanks" || evs[1].Text != "anything else?" {
			t.Fatalf("replay = %+v, want the visitor's message and the agent's, no whisper", evs)
		}
		again.quiet(200*time.Millisecond, "event")
		fresh := n.visitorSocket(t, e, ch.id.VisitorToken, ch.conv, 0)
		all := fresh.events(5)
		checkSeqs(t, "full replay", all, 0)
		for _, ev := range all {
			if ev.Kind == "whisper" || strings.Contains(ev.Text, "whisper") || strings.Contains(ev.Text, "refund</b>") {
				t.Fatalf("visitor replay holds a whisper: %+v", ev)
			}
		}
		fresh.quiet(200*time.Millisecond, "event")

		// The long poll and the conversation summary count the same way.
		var batch chat.EventBatch
		if code := do(t, http.MethodGet, n.widgetURL(e, "/chats/"+ch.conv+"/events?after=0&wait=0"), ch.id.VisitorToken, nil, &batch); code != http.StatusOK {
			t.Fatalf("long poll: %d", code)
		}
		if len(batch.Events) != 5 || batch.LastSeq != 5 {
			t.Fatalf("long poll = %d events up to %d, want 5 up to 5", len(batch.Events), batch.LastSeq)
		}
		for i, ev := range batch.Events {
			if ev.Seq != int64(i+1) || ev.Kind == "whisper" || ev.Audience != "" {
				t.Fatalf("long poll event %d = %+v, want seq %d and no whisper", i, ev, i+1)
			}
		}
		var cur struct {
			LastSeq int64 `json:"last_seq"`
		}
		if code := do(t, http.MethodGet, n.widgetURL(e, "/chats/current"), ch.id.VisitorToken, nil, &cur); code != http.StatusOK || cur.LastSeq != 5 {
			t.Fatalf("current chat: %d last_seq %d, want 200 and 5", code, cur.LastSeq)
		}
		var ack struct {
			Seq int64 `json:"seq"`
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats/"+ch.conv+"/messages"), ch.id.VisitorToken,
			map[string]any{"key": "v-poll", "text": "via HTTP"}, &ack); code != http.StatusOK || ack.Seq != 6 {
			t.Fatalf("long-poll message: %d ack seq %d, want 200 and 6", code, ack.Seq)
		}
		if got := ch.agent.events(1)[0]; got.Seq != 8 || got.Text != "via HTTP" {
			t.Fatalf("agent got %+v, want seq 8", got)
		}

		// Stored sealed like any message; the card number masked before sealing.
		for _, v := range dumpDatabase(t, e.db) {
			if strings.Contains(v, "refund") || strings.Contains(v, "second whisper") || strings.Contains(separators.ReplaceAllString(v, ""), "4111111111111111") {
				t.Fatalf("database holds whisper text in clear: %.80q", v)
			}
		}
		if got := auditDetails(t, e, audit.ActionChatMonitor); len(got) != 2 || got[1]["mode"] != "whisper" {
			t.Fatalf("chat.monitor audit = %v, want monitor then the first whisper", got)
		}
	})
}

// TestJoinAndLeave has a supervisor join another agent's chat: the visitor sees the joined event
// with the supervisor's name, the supervisor writes like the agent, and leaving is an event too.
func TestJoinAndLeave(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		grace := e.supervisor("Grace", e.cards.ID)
		sup, _ := n.agentSocket(t, grace, nil)

		sup.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "g-0", "text": "before joining"})
		if f := sup.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "forbidden" {
			t.Fatalf("message before joining = %+v, want forbidden", f)
		}
		sup.send(map[string]any{"type": "join", "conversation_id": ch.conv})
		if f := sup.reply(ch.conv, "supervising"); f.Type != "supervising" {
			t.Fatalf("join answered %+v, want supervising", f)
		}
		hist := sup.events(3)
		checkSeqs(t, "join replay", hist, 0)
		if hist[2].Event != "joined" || hist[2].Sender.Name != "Grace" {
			t.Fatalf("replay = %+v, want Grace's joined event at seq 3", hist)
		}
		for who, c := range map[string]*client{"visitor": ch.visitor, "agent": ch.agent} {
			if j := c.events(1)[0]; j.Seq != 3 || j.Event != "joined" || j.Sender.Name != "Grace" {
				t.Fatalf("%s got %+v, want Grace joined at seq 3", who, j)
			}
		}
		// Joining again changes nothing.
		sup.send(map[string]any{"type": "join", "conversation_id": ch.conv})
		sup.reply(ch.conv, "supervising")
		ch.visitor.quiet(200*time.Millisecond, "event")

		sup.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "g-1", "text": "Hello, I am Bob's supervisor."})
		if ack := sup.until("ack", func(f frame) bool { return f.Type == "ack" || f.Type == "error" }); ack.Type != "ack" || ack.Seq != 4 {
			t.Fatalf("joined supervisor's message answered %+v, want ack seq 4", ack)
		}
		if m := ch.visitor.events(1)[0]; m.Seq != 4 || m.Sender.Name != "Grace" || m.Text != "Hello, I am Bob's supervisor." {
			t.Fatalf("visitor got %+v, want Grace's message", m)
		}
		sup.send(map[string]any{"type": "typing", "conversation_id": ch.conv, "typing": true})
		ch.visitor.until("typing", func(f frame) bool { return f.Type == "typing" && f.Typing })
		if got := e.audit.count(audit.ActionConversationJoin); got != 1 {
			t.Fatalf("chat.join audit records = %d, want 1", got)
		}

		// A reconnecting supervisor is still a participant and follows the chat again.
		_ = sup.conn.CloseNow()
		sup, _ = n.agentSocket(t, grace, map[string]int64{ch.conv: 4})
		if f := sup.reply(ch.conv, "supervising"); f.Type != "supervising" || f.Conversation.LastSeq != 4 {
			t.Fatalf("after reconnect %+v, want supervising at seq 4", f)
		}
		ch.visitor.send(map[string]any{"type": "message", "key": "v-1", "text": "Hi Grace"})
		if m := sup.events(1)[0]; m.Seq != 5 {
			t.Fatalf("supervisor got %+v, want seq 5", m)
		}

		sup.send(map[string]any{"type": "leave", "conversation_id": ch.conv})
		if l := sup.events(1)[0]; l.Event != "left" || l.Seq != 6 {
			t.Fatalf("supervisor got %+v, want its left event", l)
		}
		if f := sup.reply(ch.conv, "supervising_ended"); f.Type != "supervising_ended" || f.Reason != "left" {
			t.Fatalf("leave answered %+v, want supervising_ended (left)", f)
		}
		ch.visitor.events(1)
		if l := ch.visitor.events(1)[0]; l.Event != "left" || l.Sender.Name != "Grace" {
			t.Fatalf("visitor got %+v, want Grace left", l)
		}
		sup.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "g-2", "text": "one more thing"})
		if f := sup.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "forbidden" {
			t.Fatalf("message after leaving = %+v, want forbidden", f)
		}
		sup.send(map[string]any{"type": "leave", "conversation_id": ch.conv})
		if f := sup.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "invalid_request" {
			t.Fatalf("second leave = %+v, want invalid_request", f)
		}
	})
}

// TestSupervisionRefused: without the permission, in another department, for another tenant's
// conversation, or for an ended one, every supervision frame is refused with a clear error and
// the refusal audited; the socket stays open. A user who only monitors opens the agent socket
// without being online for routing.
func TestSupervisionRefused(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		agent, _ := n.agentSocket(t, e.fullAgent("Carl"), nil)
		lena := e.supervisor("Lena", e.loans.ID)
		loans, _ := n.agentSocket(t, lena, nil)
		other := foreignConversation(t, e)

		cases := []struct {
			name string
			c    *client
			conv string
			code string
		}{
			{"agent role", agent, ch.conv, "forbidden"},
			{"other department", loans, ch.conv, "forbidden"},
			{"other tenant", loans, other, "not_found"},
			{"unknown", loans, uuid.NewString(), "not_found"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				for _, fr := range []map[string]any{
					{"type": "monitor", "conversation_id": tc.conv},
					{"type": "join", "conversation_id": tc.conv},
					{"type": "whisper", "conversation_id": tc.conv, "key": "w-x", "text": "psst"},
				} {
					tc.c.send(fr)
					f := tc.c.until("error", func(f frame) bool { return f.Type != "event" && f.Type != "offer" && f.Type != "status" })
					if f.Type != "error" || f.Code != tc.code || f.ConversationID != tc.conv {
						t.Fatalf("%s answered %+v, want %s", fr["type"], f, tc.code)
					}
				}
			})
		}
		var denied []string
		if err := migratetest.Beneath(t, e.db).Gorm.Raw("SELECT details FROM test_audit WHERE action = ?", string(audit.ActionPermissionDenied)).Scan(&denied).Error; err != nil {
			t.Fatal(err)
		}
		if len(denied) != 12 {
			t.Fatalf("access.denied audit records = %d, want 12", len(denied))
		}
		if got := e.audit.count(audit.ActionChatMonitor) + e.audit.count(audit.ActionConversationJoin); got != 0 {
			t.Fatalf("refused supervision recorded %d successes", got)
		}
		ch.visitor.quiet(200*time.Millisecond, "event")
		ch.agent.quiet(100*time.Millisecond, "event")

		// A user who may only monitor opens the socket, monitors, and is not an agent online.
		watcher := e.agent("Quinn", map[string][]string{"chat.monitor": {e.cards.ID}})
		w, welcome := n.agentSocket(t, watcher, nil)
		if len(welcome.Queue) != 0 {
			t.Fatalf("monitor-only welcome = %+v, want no queue", welcome)
		}
		w.send(map[string]any{"type": "monitor", "conversation_id": ch.conv, "last_seq": 2})
		if f := w.reply(ch.conv, "supervising"); f.Type != "supervising" {
			t.Fatalf("monitor-only user answered %+v", f)
		}
		w.send(map[string]any{"type": "whisper", "conversation_id": ch.conv, "key": "w-q", "text": "psst"})
		if f := w.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "forbidden" {
			t.Fatalf("whisper without chat.whisper = %+v, want forbidden", f)
		}
		var online int64
		migratetest.Beneath(t, e.db).Gorm.Raw("SELECT COUNT(*) FROM agent_presence WHERE user_id = ?", watcher).Scan(&online)
		if online != 0 {
			t.Fatalf("monitor-only user has %d presence rows, want 0", online)
		}
		if _, code := dial(t, n.srv.URL+"/api/v1/chat/agent/ws", http.Header{"Origin": {n.srv.URL}, "X-Test-User": {e.agent("Vic", nil)}}); code != http.StatusForbidden {
			t.Fatalf("socket of a user without chat permissions: %d, want 403", code)
		}

		// An ended conversation is not supervised; monitors of it are told when it ends.
		ch.agent.send(map[string]any{"type": "end", "conversation_id": ch.conv})
		w.until("ended", func(f frame) bool { return f.Event == "ended" })
		if f := w.reply(ch.conv, "supervising_ended"); f.Type != "supervising_ended" || f.Reason != "ended" {
			t.Fatalf("after the end %+v, want supervising_ended (ended)", f)
		}
		w.send(map[string]any{"type": "monitor", "conversation_id": ch.conv})
		if f := w.reply(ch.conv, "supervising"); f.Type != "error" || f.Code != "conversation_ended" {
			t.Fatalf("monitor of an ended chat = %+v, want conversation_ended", f)
		}
	})
}

// foreignConversation stores a conversation of another tenant (its id must answer not_found).
func foreignConversation(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	tn, err := e.tenants.CreateTenant(ctx, "Other Bank")
	if err != nil {
		t.Fatal(err)
	}
	site, err := e.tenants.CreateSite(ctx, tn.ID, "Other", []string{"https://other.example"})
	if err != nil {
		t.Fatal(err)
	}
	id, now := uuid.NewString(), e.clock.Now().UTC()
	if err := migratetest.Beneath(t, e.db).Gorm.Exec(`INSERT INTO conversations (id, tenant_id, site_id, visitor_id, status, agent_id, last_seq, visitor_last_seq, queued_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'active', ?, 0, 0, ?, ?, ?)`, id, tn.ID, site.ID, "v-other", "u-other", now, now, now).Error; err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSupervisionAcrossNodes runs on two PostgreSQL nodes: the visitor and the agent on node A,
// the supervisor on node B. The monitor receives the chat across nodes, the whisper reaches the
// agent across nodes and never the visitor, who resumes on node B without it.
func TestSupervisionAcrossNodes(t *testing.T) {
	url := migratetest.URL(t, migrations.Postgres)
	e := newEnv(t, openURL(t, url, true), url)
	a := e.node(openURL(t, url, false), chat.Limits{})
	b := e.node(openURL(t, url, false), chat.Limits{})
	ch := openChat(t, e, a)
	grace := e.supervisor("Grace", e.cards.ID)
	sup, _ := b.agentSocket(t, grace, nil)
	sup.send(map[string]any{"type": "monitor", "conversation_id": ch.conv})
	sup.reply(ch.conv, "supervising")
	sup.events(2)

	ch.visitor.send(map[string]any{"type": "message", "key": "v-1", "text": "hello from node A"})
	if m := sup.events(1)[0]; m.Seq != 3 || m.Text != "hello from node A" {
		t.Fatalf("monitor on node B got %+v, want seq 3", m)
	}
	ch.agent.events(1)
	last := ch.visitor.events(1)[0].Seq
	sup.send(map[string]any{"type": "whisper", "conversation_id": ch.conv, "key": "w-1", "text": "whisper from node B"})
	if w := ch.agent.events(1)[0]; w.Seq != 4 || w.Kind != "whisper" || w.Text != "whisper from node B" {
		t.Fatalf("agent on node A got %+v, want the whisper at seq 4", w)
	}
	sup.events(1)
	ch.agent.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "a-1", "text": "answer after the whisper"})
	if m := ch.visitor.events(1)[0]; m.Seq != 4 || m.Text != "answer after the whisper" {
		t.Fatalf("visitor on node A got %+v, want the answer as its seq 4", m)
	}
	_ = ch.visitor.conn.CloseNow()
	sup.send(map[string]any{"type": "whisper", "conversation_id": ch.conv, "key": "w-2", "text": "another whisper"})
	ch.agent.events(2)
	moved := b.visitorSocket(t, e, ch.id.VisitorToken, ch.conv, last)
	if m := moved.events(1)[0]; m.Seq != last+1 || m.Text != "answer after the whisper" {
		t.Fatalf("resume on node B = %+v, want the answer at seq %d", m, last+1)
	}
	moved.quiet(300*time.Millisecond, "event")
	ch.agent.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "a-2", "text": "live on node B"})
	if m := moved.events(1)[0]; m.Seq != last+2 || m.Text != "live on node B" {
		t.Fatalf("visitor on node B got %+v, want seq %d", m, last+2)
	}
}

// TestSupervisionEndsOnTransfer: supervision is checked again when a chat moves to another
// department. Grace (chat.monitor, chat.join and chat.whisper in Cards only) joined Bob's Cards
// chat and Mona (chat.monitor in Cards) monitors it; Bob transfers it to Loans. Both receive the
// transferred event, then supervising_ended (forbidden), then nothing of the chat; Grace has
// left it (the visitor sees her left event) and can neither write nor whisper into it. Hank,
// who may monitor in both departments, keeps following it.
func TestSupervisionEndsOnTransfer(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		grace := e.agent("Grace", map[string][]string{"chat.monitor": {e.cards.ID}, "chat.join": {e.cards.ID}, "chat.whisper": {e.cards.ID}})
		mona := e.agent("Mona", map[string][]string{"chat.monitor": {e.cards.ID}})
		hank := e.agent("Hank", map[string][]string{"chat.monitor": {e.cards.ID, e.loans.ID}})
		gs, _ := n.agentSocket(t, grace, nil)
		ms, _ := n.agentSocket(t, mona, nil)
		hs, _ := n.agentSocket(t, hank, nil)

		gs.send(map[string]any{"type": "join", "conversation_id": ch.conv})
		if f := gs.reply(ch.conv, "supervising"); f.Type != "supervising" {
			t.Fatalf("join answered %+v, want supervising", f)
		}
		gs.events(3)
		ch.visitor.events(1)
		ch.agent.events(1)
		for name, c := range map[string]*client{"Mona": ms, "Hank": hs} {
			c.send(map[string]any{"type": "monitor", "conversation_id": ch.conv})
			if f := c.reply(ch.conv, "supervising"); f.Type != "supervising" {
				t.Fatalf("%s's monitor answered %+v, want supervising", name, f)
			}
			c.events(3)
		}

		lou := e.agent("Lou", map[string][]string{"chat.accept": {e.loans.ID}})
		ls, _ := n.agentSocket(t, lou, nil)
		ch.agent.send(map[string]any{"type": "transfer", "conversation_id": ch.conv, "department_id": e.loans.ID})
		for name, c := range map[string]*client{"Grace": gs, "Mona": ms} {
			if ev := c.events(1)[0]; ev.Seq != 4 || ev.Event != "transferred" {
				t.Fatalf("%s got %+v, want the transferred event at seq 4", name, ev)
			}
			if f := c.reply(ch.conv, "supervising_ended"); f.Type != "supervising_ended" || f.Reason != "forbidden" {
				t.Fatalf("%s got %+v, want supervising_ended (forbidden)", name, f)
			}
		}
		if l := ch.visitor.events(2)[1]; l.Event != "left" || l.Sender.Name != "Grace" {
			t.Fatalf("visitor got %+v, want Grace left", l)
		}
		if evs := hs.events(2); evs[0].Event != "transferred" || evs[1].Event != "left" {
			t.Fatalf("Hank got %+v, want the transfer and Grace's leaving", evs)
		}

		ls.until("offer", func(f frame) bool { return f.Type == "offer" && f.Offer.ConversationID == ch.conv })
		ls.send(map[string]any{"type": "accept", "conversation_id": ch.conv})
		ch.visitor.send(map[string]any{"type": "message", "key": "v-1", "text": "about my loan"})
		if m := hs.until("message", func(f frame) bool { return f.Type == "event" && f.Kind == "message" }); m.Text != "about my loan" {
			t.Fatalf("Hank got %+v, want the visitor's message", m)
		}

		gs.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "g-1", "text": "still here"})
		if f := gs.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "forbidden" {
			t.Fatalf("Grace's message after the transfer = %+v, want forbidden", f)
		}
		gs.send(map[string]any{"type": "whisper", "conversation_id": ch.conv, "key": "w-1", "text": "psst"})
		if f := gs.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "forbidden" {
			t.Fatalf("Grace's whisper after the transfer = %+v, want forbidden", f)
		}
		gs.quiet(300*time.Millisecond, "event", "typing", "read")
		ms.quiet(100*time.Millisecond, "event", "typing", "read")
	})
}

// TestJoinRefusedAtWatchLimit: a socket supervising as many chats as it may is refused a join
// before anything is joined: no joined event, no participant, no chat.join audit record.
func TestJoinRefusedAtWatchLimit(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		var c chat.Conversation
		if err := migratetest.Beneath(t, e.db).Gorm.Where("id = ?", ch.conv).Take(&c).Error; err != nil {
			t.Fatal(err)
		}
		grace := e.supervisor("Grace", e.cards.ID)
		sup, _ := n.agentSocket(t, grace, nil)
		for i := 0; i < 200; i++ {
			other := c
			other.ID, other.Status, other.AgentID, other.LastSeq, other.VisitorLastSeq = uuid.Must(uuid.NewV7()).String(), chat.StatusQueued, nil, 0, 0
			if err := migratetest.Beneath(t, e.db).Gorm.Create(&other).Error; err != nil {
				t.Fatal(err)
			}
			sup.send(map[string]any{"type": "monitor", "conversation_id": other.ID})
			if f := sup.reply(other.ID, "supervising"); f.Type != "supervising" {
				t.Fatalf("monitor %d answered %+v, want supervising", i, f)
			}
		}
		sup.send(map[string]any{"type": "join", "conversation_id": ch.conv})
		if f := sup.reply(ch.conv, "supervising"); f.Type != "error" || f.Code != "invalid_request" {
			t.Fatalf("join over the limit answered %+v, want invalid_request", f)
		}
		ch.visitor.quiet(200*time.Millisecond, "event")
		if got := e.audit.count(audit.ActionConversationJoin); got != 0 {
			t.Fatalf("chat.join audit records = %d, want 0", got)
		}
		var joined int64
		if err := migratetest.Beneath(t, e.db).Gorm.Table("conversation_participants").Where("conversation_id = ? AND participant_id = ?", ch.conv, grace).Count(&joined).Error; err != nil {
			t.Fatal(err)
		}
		if joined != 0 {
			t.Fatalf("participant rows for Grace = %d, want 0", joined)
		}
	})
}

// TestReadPastWhisperUnseen: an agent who reads up to a whisper gives the visitor no read
// receipt (the visitor would get the one it already has again, and learn something it never saw
// was read): the visitor never receives two receipts of the same seq, on the socket or the long
// poll.
func TestReadPastWhisperUnseen(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		grace := e.supervisor("Grace", e.cards.ID)
		sup, _ := n.agentSocket(t, grace, nil)

		ch.agent.send(map[string]any{"type": "message", "conversation_id": ch.conv, "key": "a-1", "text": "Hello"})
		ch.visitor.events(1)
		ch.agent.events(1)
		ch.agent.send(map[string]any{"type": "read", "conversation_id": ch.conv, "seq": 3})
		if rd := ch.visitor.until("read", func(f frame) bool { return f.Type == "read" }); rd.Seq != 3 {
			t.Fatalf("visitor got read receipt %+v, want seq 3", rd)
		}

		sup.send(map[string]any{"type": "whisper", "conversation_id": ch.conv, "key": "w-1", "text": "ask for the date"})
		if ack := sup.until("ack", func(f frame) bool { return f.Type == "ack" || f.Type == "error" }); ack.Type != "ack" || ack.Seq != 4 {
			t.Fatalf("whisper answered %+v, want ack seq 4", ack)
		}
		ch.agent.events(1)
		polled := make(chan chat.EventBatch, 1)
		go func() {
			var batch chat.EventBatch
			do(t, http.MethodGet, n.widgetURL(e, "/chats/"+ch.conv+"/events?after=3&wait=1"), ch.id.VisitorToken, nil, &batch)
			polled <- batch
		}()
		ch.agent.send(map[string]any{"type": "read", "conversation_id": ch.conv, "seq": 4})
		ch.visitor.quiet(300*time.Millisecond, "read")
		if batch := <-polled; len(batch.Signals) != 0 || len(batch.Events) != 0 {
			t.Fatalf("long poll = %+v, want nothing after the read of a whisper", batch)
		}

		ch.visitor.send(map[string]any{"type": "message", "key": "v-1", "text": "When?"})
		ch.visitor.until("ack", func(f frame) bool { return f.Type == "ack" })
		ch.agent.events(1)
		ch.agent.send(map[string]any{"type": "read", "conversation_id": ch.conv, "seq": 5})
		if rd := ch.visitor.until("read", func(f frame) bool { return f.Type == "read" }); rd.Seq != 4 {
			t.Fatalf("visitor got read receipt %+v, want its seq 4", rd)
		}
	})
}

// TestTransferRemovesJoinedSupervisor: a supervisor who joined and may not join in the
// department a chat is transferred to leaves it with the transfer, connected or not: the visitor
// sees the left event, and a reconnect does not follow the chat again.
func TestTransferRemovesJoinedSupervisor(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ch := openChat(t, e, n)
		grace := e.agent("Grace", map[string][]string{"chat.join": {e.cards.ID}})
		gs, _ := n.agentSocket(t, grace, nil)
		gs.send(map[string]any{"type": "join", "conversation_id": ch.conv})
		if f := gs.reply(ch.conv, "supervising"); f.Type != "supervising" {
			t.Fatalf("join answered %+v, want supervising", f)
		}
		gs.events(3)
		ch.visitor.events(1)
		_ = gs.conn.CloseNow()

		ch.agent.send(map[string]any{"type": "transfer", "conversation_id": ch.conv, "department_id": e.loans.ID})
		evs := ch.visitor.events(2)
		if evs[0].Event != "transferred" || evs[1].Event != "left" || evs[1].Sender.Name != "Grace" {
			t.Fatalf("visitor got %+v, want the transfer and Grace leaving", evs)
		}
		var open int64
		if err := migratetest.Beneath(t, e.db).Gorm.Table("conversation_participants").
			Where("conversation_id = ? AND participant_id = ? AND left_at IS NULL", ch.conv, grace).Count(&open).Error; err != nil {
			t.Fatal(err)
		}
		if open != 0 {
			t.Fatalf("Grace still takes part in the chat (%d rows)", open)
		}
		gs, _ = n.agentSocket(t, grace, map[string]int64{ch.conv: 3})
		gs.quiet(300*time.Millisecond, "supervising", "event")
	})
}

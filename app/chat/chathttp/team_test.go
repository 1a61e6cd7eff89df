package chathttp_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/chathttp"
	"github.com/parleyhq/parley/app/chat/protocol"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// teamAgent may take chats, chat with colleagues and invite visitors.
func (e *env) teamAgent(name string) string {
	return e.agent(name, map[string][]string{"chat.accept": nil, "chat.end": nil, "chat.agent_chat": nil, "chat.invite": nil, "visitor.view": nil})
}

type teamPage struct {
	Messages []frame `json:"messages"`
}

// TestTeamChat: two colleagues chat over their agent sockets; the message path masks card
// numbers, stores only ciphertext, numbers each thread gaplessly, answers a retried key with the
// original, and keeps every thread to its two members (others, and other tenants, get 404).
func TestTeamChat(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ann, ben, cleo := e.teamAgent("Ann"), e.teamAgent("Ben"), e.teamAgent("Cleo")
		dan := e.fullAgent("Dan") // no chat.agent_chat
		a, _ := n.agentSocket(t, ann, nil)
		b, _ := n.agentSocket(t, ben, nil)

		a.send(map[string]any{"type": "team_message", "to_user_id": ben, "key": "k1", "text": "Card 4111 1111 1111 1111 for <b>you</b>"})
		mine := a.until("own team_event", func(f frame) bool { return f.Type == "team_event" })
		if mine.Seq != 1 || mine.Key != "k1" || mine.ThreadID == "" || mine.Peer == nil || mine.Peer.ID != ben || mine.Peer.Name != "Ben" {
			t.Fatalf("sender's event %+v (peer %+v), want seq 1, key k1, peer Ben", mine, mine.Peer)
		}
		if strings.Contains(mine.Text, "4111 1111 1111 1111") || !strings.Contains(mine.Text, "1111") {
			t.Fatalf("text %q: want the card number masked", mine.Text)
		}
		got := b.until("colleague's team_event", func(f frame) bool { return f.Type == "team_event" })
		if got.Seq != 1 || got.Key != "" || got.ThreadID != mine.ThreadID || got.Text != mine.Text || got.Sender == nil || got.Sender.ID != ann || got.Peer == nil || got.Peer.ID != ann {
			t.Fatalf("receiver's event %+v, want seq 1 without key from Ann", got)
		}
		b.send(map[string]any{"type": "team_message", "thread_id": mine.ThreadID, "key": "r1", "text": "Thanks"})
		if f := a.until("reply", func(f frame) bool { return f.Type == "team_event" && f.Seq == 2 }); f.Text != "Thanks" || f.Sender.ID != ben {
			t.Fatalf("reply %+v", f)
		}
		// A retry of k1 answers the original; nothing is stored again.
		a.send(map[string]any{"type": "team_message", "thread_id": mine.ThreadID, "key": "k1", "text": "something else"})
		if f := a.until("retry answer", func(f frame) bool { return f.Type == "team_event" && f.Key == "k1" }); f.Seq != 1 {
			t.Fatalf("retry answered seq %d, want 1", f.Seq)
		}
		var rows, clear int64
		tctx := migrations.WithTenant(context.Background(), e.tenant.ID)
		e.db.Gorm.WithContext(tctx).Raw("SELECT COUNT(*) FROM team_messages WHERE thread_id = ?", mine.ThreadID).Scan(&rows)
		e.db.Gorm.WithContext(tctx).Raw("SELECT COUNT(*) FROM team_messages WHERE body LIKE ? OR body LIKE ?", "%Thanks%", "%4111%").Scan(&clear)
		if rows != 2 || clear != 0 {
			t.Fatalf("stored %d rows (want 2), %d in clear (want 0)", rows, clear)
		}

		// Refusals answer error frames; the socket stays open.
		for _, tc := range []struct {
			name string
			msg  map[string]any
			code string
		}{
			{"card number in key", map[string]any{"type": "team_message", "thread_id": mine.ThreadID, "key": "4111111111111111", "text": "x"}, "card_number_not_allowed"},
			{"empty", map[string]any{"type": "team_message", "thread_id": mine.ThreadID, "key": "e1", "text": "  "}, "empty_message"},
			{"too long", map[string]any{"type": "team_message", "thread_id": mine.ThreadID, "key": "e2", "text": strings.Repeat("a", 4001)}, "message_too_long"},
			{"unknown colleague", map[string]any{"type": "team_message", "to_user_id": "nobody", "key": "e3", "text": "hi"}, "not_found"},
			{"colleague without the permission", map[string]any{"type": "team_message", "to_user_id": dan, "key": "e4", "text": "hi"}, "not_found"},
			{"oneself", map[string]any{"type": "team_message", "to_user_id": ann, "key": "e5", "text": "hi"}, "invalid_request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a.send(tc.msg)
				if f := a.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != tc.code {
					t.Errorf("code %q, want %q", f.Code, tc.code)
				}
			})
		}
		c, _ := n.agentSocket(t, cleo, nil)
		c.send(map[string]any{"type": "team_message", "thread_id": mine.ThreadID, "key": "c1", "text": "let me in"})
		if f := c.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "not_found" {
			t.Errorf("outsider's post: code %q, want not_found", f.Code)
		}
		d, _ := n.agentSocket(t, dan, nil)
		d.send(map[string]any{"type": "team_message", "to_user_id": ann, "key": "d1", "text": "hi"})
		if f := d.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "forbidden" {
			t.Errorf("post without chat.agent_chat: code %q, want forbidden", f.Code)
		}

		// History: the members read it (audited); others get 404.
		url := n.srv.URL + "/api/v1/team/threads/" + mine.ThreadID + "/messages"
		var page teamPage
		if code := do(t, http.MethodGet, url, "", nil, &page, "X-Test-User", ann); code != http.StatusOK || len(page.Messages) != 2 {
			t.Fatalf("history: %d, %d messages", code, len(page.Messages))
		}
		if page.Messages[0].Key != "k1" || page.Messages[1].Key != "" || page.Messages[0].Text != mine.Text {
			t.Errorf("history %+v", page.Messages)
		}
		if code := do(t, http.MethodGet, url+"?after=1", "", nil, &page, "X-Test-User", ben); code != http.StatusOK || len(page.Messages) != 1 || page.Messages[0].Seq != 2 {
			t.Errorf("history after 1: %d %+v", code, page.Messages)
		}
		if got := e.audit.count(audit.ActionTeamHistoryView); got != 2 {
			t.Errorf("%d history reads audited, want 2", got)
		}
		if code := do(t, http.MethodGet, url, "", nil, nil, "X-Test-User", cleo); code != http.StatusNotFound {
			t.Errorf("outsider's read: %d, want 404", code)
		}
		if code := do(t, http.MethodGet, url, "", nil, nil, "X-Test-User", dan); code != http.StatusForbidden {
			t.Errorf("read without chat.agent_chat: %d, want 403", code)
		}
		if code := do(t, http.MethodGet, url+"?after=-1", "", nil, nil, "X-Test-User", ann); code != http.StatusBadRequest {
			t.Errorf("after=-1: %d, want 400", code)
		}
		var threads struct {
			Threads []struct {
				ID      string          `json:"id"`
				Peer    protocol.Sender `json:"peer"`
				LastSeq int64           `json:"last_seq"`
			} `json:"threads"`
		}
		if code := do(t, http.MethodGet, n.srv.URL+"/api/v1/team/threads", "", nil, &threads, "X-Test-User", ben); code != http.StatusOK ||
			len(threads.Threads) != 1 || threads.Threads[0].Peer.ID != ann || threads.Threads[0].LastSeq != 2 {
			t.Errorf("threads: %d %+v", code, threads)
		}
		// The same user id in another tenant sees nothing of the thread.
		other, err := e.tenants.CreateTenant(context.Background(), "Other Bank")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.svc.TeamHistory(context.Background(), &api.Principal{TenantID: other.ID, UserID: ann}, mine.ThreadID, 0, 10, chat.Origin{}); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("other tenant's read: %v, want ErrNotFound", err)
		}
		if _, err := n.svc.TeamPost(context.Background(), &api.Principal{TenantID: other.ID, UserID: ann}, mine.ThreadID, "", "x1", "hi"); !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("other tenant's post: %v, want ErrNotFound", err)
		}
	})
}

// TestInvitations: an agent invites a live visitor; the widget finds the invitation, accepting
// starts a conversation already active with the agent, who is told; declined and expired
// invitations are closed, refused afterwards, audited, and the agent is told.
func TestInvitations(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		ann := e.teamAgent("Ann")
		plain := e.fullAgent("Bob") // no chat.invite
		a, _ := n.agentSocket(t, ann, nil)
		v := n.newVisitor(t, e)

		a.send(map[string]any{"type": "invite", "visitor_id": v.VisitorID, "message": "Need help with card 4111 1111 1111 1111?"})
		sent := a.until("invite_result", func(f frame) bool { return f.Type == "invite_result" })
		if sent.Status != "pending" || sent.VisitorID != v.VisitorID || sent.InvitationID == "" {
			t.Fatalf("invite_result %+v, want pending", sent)
		}
		a.send(map[string]any{"type": "invite", "visitor_id": v.VisitorID})
		if f := a.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "invalid_request" {
			t.Errorf("second invitation: %q, want invalid_request", f.Code)
		}
		var inv struct {
			Invitation *chat.Invitation `json:"invitation"`
		}
		if code := do(t, http.MethodGet, n.widgetURL(e, "/invitation"), v.VisitorToken, nil, &inv); code != http.StatusOK || inv.Invitation == nil {
			t.Fatalf("poll: %d %+v", code, inv)
		}
		if inv.Invitation.ID != sent.InvitationID || inv.Invitation.AgentName != "Ann" || strings.Contains(inv.Invitation.Message, "4111 1111 1111 1111") || !strings.Contains(inv.Invitation.Message, "Need help") {
			t.Errorf("invitation %+v: want Ann's, card number masked", inv.Invitation)
		}
		// Another visitor neither sees nor answers it.
		w := n.newVisitor(t, e)
		var none struct {
			Invitation *chat.Invitation `json:"invitation"`
		}
		if code := do(t, http.MethodGet, n.widgetURL(e, "/invitation"), w.VisitorToken, nil, &none); code != http.StatusOK || none.Invitation != nil {
			t.Errorf("other visitor's poll: %d %+v", code, none.Invitation)
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/invitations/"+sent.InvitationID+"/accept"), w.VisitorToken, nil, nil); code != http.StatusNotFound {
			t.Errorf("other visitor's accept: %d, want 404", code)
		}

		var conv protocol.Conversation
		if code := do(t, http.MethodPost, n.widgetURL(e, "/invitations/"+sent.InvitationID+"/accept"), v.VisitorToken, nil, &conv); code != http.StatusCreated || conv.Status != "active" {
			t.Fatalf("accept: %d %+v", code, conv)
		}
		if f := a.until("assigned", func(f frame) bool { return f.Type == "assigned" }); f.Conversation == nil || f.Conversation.ConversationID != conv.ConversationID {
			t.Errorf("assigned %+v, want the new conversation", f)
		}
		if f := a.until("accepted", func(f frame) bool { return f.Type == "invite_result" && f.Status == "accepted" }); f.ConversationID != conv.ConversationID {
			t.Errorf("invite_result %+v, want the conversation", f)
		}
		var eb errBody
		if code := do(t, http.MethodPost, n.widgetURL(e, "/invitations/"+sent.InvitationID+"/accept"), v.VisitorToken, nil, &eb); code != http.StatusConflict || eb.Error.Code != "invitation_closed" {
			t.Errorf("second accept: %d %q, want 409 invitation_closed", code, eb.Error.Code)
		}
		// The agent writes into it at once; the visitor sees it.
		vs := n.visitorSocket(t, e, v.VisitorToken, conv.ConversationID, 0)
		a.send(map[string]any{"type": "message", "conversation_id": conv.ConversationID, "key": "m1", "text": "Hello!"})
		if f := vs.until("message", func(f frame) bool { return f.Type == "event" && f.Kind == "message" }); f.Text != "Hello!" {
			t.Errorf("visitor got %+v", f)
		}

		// Declined.
		a.send(map[string]any{"type": "invite", "visitor_id": w.VisitorID})
		second := a.until("invite_result", func(f frame) bool { return f.Type == "invite_result" && f.Status == "pending" })
		if code := do(t, http.MethodPost, n.widgetURL(e, "/invitations/"+second.InvitationID+"/decline"), w.VisitorToken, nil, nil); code != http.StatusNoContent {
			t.Errorf("decline: %d", code)
		}
		a.until("declined", func(f frame) bool {
			return f.Type == "invite_result" && f.Status == "declined" && f.InvitationID == second.InvitationID
		})
		if code := do(t, http.MethodPost, n.widgetURL(e, "/invitations/"+second.InvitationID+"/accept"), w.VisitorToken, nil, nil); code != http.StatusConflict {
			t.Errorf("accept after decline: %d, want 409", code)
		}

		// Expired: refused when answered late, and swept when never answered.
		x, y := n.newVisitor(t, e), n.newVisitor(t, e)
		a.send(map[string]any{"type": "invite", "visitor_id": x.VisitorID})
		third := a.until("invite_result", func(f frame) bool { return f.Type == "invite_result" && f.Status == "pending" })
		a.send(map[string]any{"type": "invite", "visitor_id": y.VisitorID})
		fourth := a.until("invite_result", func(f frame) bool { return f.Type == "invite_result" && f.Status == "pending" })
		e.clock.Advance(chat.InvitationTTL + time.Second)
		if code := do(t, http.MethodGet, n.widgetURL(e, "/invitation"), x.VisitorToken, nil, &none); code != http.StatusOK || none.Invitation != nil {
			t.Errorf("expired invitation still offered: %+v", none.Invitation)
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/invitations/"+third.InvitationID+"/accept"), x.VisitorToken, nil, &eb); code != http.StatusConflict || eb.Error.Code != "invitation_closed" {
			t.Errorf("late accept: %d %q, want 409 invitation_closed", code, eb.Error.Code)
		}
		a.until("expired", func(f frame) bool {
			return f.Type == "invite_result" && f.Status == "expired" && f.InvitationID == third.InvitationID
		})
		if got, err := n.svc.SweepInvitations(context.Background()); err != nil || got != 1 {
			t.Errorf("sweep: %d, %v; want 1", got, err)
		}
		a.until("swept", func(f frame) bool {
			return f.Type == "invite_result" && f.Status == "expired" && f.InvitationID == fourth.InvitationID
		})

		for action, want := range map[audit.Action]int{audit.ActionInvitationSend: 4, audit.ActionInvitationAccept: 1,
			audit.ActionInvitationDecline: 1, audit.ActionInvitationExpire: 2} {
			if got := e.audit.count(action); got != want {
				t.Errorf("%s audited %d times, want %d", action, got, want)
			}
		}

		// Refusals.
		b, _ := n.agentSocket(t, plain, nil)
		b.send(map[string]any{"type": "invite", "visitor_id": x.VisitorID})
		if f := b.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "forbidden" {
			t.Errorf("invite without chat.invite: %q, want forbidden", f.Code)
		}
		// Another tenant's visitor is not found.
		other, err := e.tenants.CreateTenant(context.Background(), "Other Bank")
		if err != nil {
			t.Fatal(err)
		}
		otherSite, err := e.tenants.CreateSite(context.Background(), other.ID, "Other shop", []string{siteOrigin})
		if err != nil {
			t.Fatal(err)
		}
		var stranger chathttp.Identity
		if code := do(t, http.MethodPost, n.srv.URL+"/api/v1/widget/sites/"+otherSite.SiteKey+"/pageviews", "", map[string]any{"url": siteOrigin + "/", "title": "Home"}, &stranger); code != http.StatusOK {
			t.Fatalf("other tenant's page view: %d", code)
		}
		a.send(map[string]any{"type": "invite", "visitor_id": stranger.VisitorID})
		if f := a.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "not_found" {
			t.Errorf("other tenant's visitor: %q, want not_found", f.Code)
		}
		a.send(map[string]any{"type": "invite", "visitor_id": "no-such-visitor"})
		if f := a.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "not_found" {
			t.Errorf("unknown visitor: %q, want not_found", f.Code)
		}
		a.send(map[string]any{"type": "invite", "visitor_id": v.VisitorID})
		if f := a.until("error", func(f frame) bool { return f.Type == "error" }); f.Code != "invalid_request" {
			t.Errorf("visitor in a chat: %q, want invalid_request", f.Code)
		}

		// An agent who went offline cannot be given the chat: the invitation closes as expired.
		z := n.newVisitor(t, e)
		a.send(map[string]any{"type": "invite", "visitor_id": z.VisitorID})
		last := a.until("invite_result", func(f frame) bool { return f.Type == "invite_result" && f.VisitorID == z.VisitorID })
		_ = a.conn.CloseNow()
		tctx := migrations.WithTenant(context.Background(), e.tenant.ID)
		for deadline := time.Now().Add(10 * time.Second); ; {
			var online int64
			e.db.Gorm.WithContext(tctx).Raw("SELECT COUNT(*) FROM agent_presence WHERE user_id = ?", ann).Scan(&online)
			if online == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the agent is still online after closing the socket")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if code := do(t, http.MethodPost, n.widgetURL(e, "/invitations/"+last.InvitationID+"/accept"), z.VisitorToken, nil, &eb); code != http.StatusConflict || eb.Error.Code != "invitation_closed" {
			t.Errorf("accept after the agent left: %d %q, want 409 invitation_closed", code, eb.Error.Code)
		}
		if got := e.audit.count(audit.ActionInvitationExpire); got != 3 {
			t.Errorf("expiries audited %d, want 3", got)
		}
	})
}

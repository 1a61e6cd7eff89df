package chathttp_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestRefusalAudited: a refusal the agent may not make (no chat.refuse there, another tenant's,
// taken or ended conversation) is answered with an error and leaves no refusal and no audit
// record; a refusal whose audit record cannot be written is refused too (fail closed); an
// allowed refusal is audited once, naming the agent and the conversation, without content.
func TestRefusalAudited(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		annID := e.fullAgent("Ann")
		ann, _ := n.agentSocket(t, annID, nil)
		benID := e.fullAgent("Ben")
		ben, _ := n.agentSocket(t, benID, nil)

		offered := n.start(t, e, n.newVisitor(t, e).VisitorToken, e.cards.ID, "Ada").ConversationID
		ann.until("offer", func(f frame) bool { return f.Type == "offer" && f.Offer.ConversationID == offered })
		taken := n.start(t, e, n.newVisitor(t, e).VisitorToken, e.cards.ID, "Bea").ConversationID
		ben.until("offer", func(f frame) bool { return f.Type == "offer" && f.Offer.ConversationID == taken })
		ben.send(map[string]any{"type": "accept", "conversation_id": taken})
		ben.until("assigned", func(f frame) bool { return f.Type == "assigned" && f.Conversation.ConversationID == taken })
		ended := n.start(t, e, n.newVisitor(t, e).VisitorToken, e.cards.ID, "Cy").ConversationID
		ben.until("offer", func(f frame) bool { return f.Type == "offer" && f.Offer.ConversationID == ended })
		ben.send(map[string]any{"type": "accept", "conversation_id": ended})
		ben.until("assigned", func(f frame) bool { return f.Type == "assigned" && f.Conversation.ConversationID == ended })
		ben.send(map[string]any{"type": "end", "conversation_id": ended})
		ben.until("ended", func(f frame) bool { return f.ConversationID == ended && f.Event == "ended" })

		noRefuse, _ := n.agentSocket(t, e.agent("Cal", map[string][]string{"chat.accept": nil}), nil)
		loansOnly, _ := n.agentSocket(t, e.agent("Lee", map[string][]string{"chat.accept": nil, "chat.refuse": {e.loans.ID}}), nil)

		refusals := func() int64 {
			var k int64
			migratetest.Beneath(t, e.db).Gorm.Table("conversation_refusals").Count(&k)
			return k
		}
		for _, tc := range []struct {
			name     string
			agent    *client
			conv     string
			wantCode string
		}{
			{"without chat.refuse", noRefuse, offered, "forbidden"},
			{"chat.refuse in another department", loansOnly, offered, "forbidden"},
			{"another tenant's conversation", ann, foreignConversation(t, e), "not_found"},
			{"unknown conversation", ann, uuid.NewString(), "not_found"},
			{"taken by another agent", ann, taken, "conflict"},
			{"ended", ann, ended, "conversation_ended"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.agent.send(map[string]any{"type": "refuse", "conversation_id": tc.conv})
				f := tc.agent.until("error", func(f frame) bool { return f.Type == "error" && f.ConversationID == tc.conv })
				if f.Code != tc.wantCode {
					t.Errorf("got code %q, want %q", f.Code, tc.wantCode)
				}
				if got := e.audit.count(audit.ActionConversationRefuse); got != 0 {
					t.Errorf("got %d refusal audit records, want 0", got)
				}
				if got := refusals(); got != 0 {
					t.Errorf("got %d refusals stored, want 0", got)
				}
			})
		}

		t.Run("audit log failing", func(t *testing.T) {
			e.audit.setFail(true)
			ann.send(map[string]any{"type": "refuse", "conversation_id": offered})
			ann.until("error", func(f frame) bool { return f.Type == "error" && f.ConversationID == offered })
			e.audit.setFail(false)
			if got := refusals(); got != 0 {
				t.Errorf("got %d refusals stored without an audit record, want 0", got)
			}
		})

		t.Run("offer refused", func(t *testing.T) {
			ann.send(map[string]any{"type": "refuse", "conversation_id": offered})
			f := ann.until("withdrawal", func(f frame) bool {
				return (f.Type == "offer_withdrawn" || f.Type == "error") && f.ConversationID == offered
			})
			if f.Type != "offer_withdrawn" || f.Reason != "refused" {
				t.Fatalf("got %+v, want offer_withdrawn (refused)", f)
			}
			var rows []struct{ Tenant, Actor, Target, Details string }
			if err := migratetest.Beneath(t, e.db).Gorm.Raw("SELECT tenant, actor, target, details FROM test_audit WHERE action = ?",
				string(audit.ActionConversationRefuse)).Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 {
				t.Fatalf("got %d refusal audit records, want 1", len(rows))
			}
			r := rows[0]
			if r.Tenant != e.tenant.ID || r.Actor != "user:"+annID || r.Target != "conversation:"+offered {
				t.Errorf("got tenant %q, actor %q, target %q; want %q, user:%s, conversation:%s", r.Tenant, r.Actor, r.Target, e.tenant.ID, annID, offered)
			}
			if d := auditDetails(t, e, audit.ActionConversationRefuse)[0]; len(d) != 2 || d["department"] != e.cards.ID || d["status"] != chat.StatusQueued {
				t.Errorf("got details %v, want the department and status only", d)
			}
			if got := refusals(); got != 1 {
				t.Errorf("got %d refusals stored, want 1", got)
			}
		})
	})
}

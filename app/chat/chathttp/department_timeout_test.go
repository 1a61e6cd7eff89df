package chathttp_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
)

// TestDepartmentQueueTimeout: a department's own queue timeout overrides the site's (five
// minutes by default) for the chats queued in it; a department without one keeps the site's.
func TestDepartmentQueueTimeout(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		admin := &tenant.Admin{DB: e.db.Gorm, Store: e.tenants, Audit: e.audit, Node: "test"}
		if _, err := admin.UpdateDepartment(t.Context(), tenant.Actor{UserID: "u-admin"}, e.tenant.ID, e.cards.ID,
			tenant.DepartmentInput{Name: "Cards", DepartmentSettings: tenant.DepartmentSettings{QueueTimeoutSeconds: 60}}); err != nil {
			t.Fatal(err)
		}
		n.agentSocket(t, e.fullAgent("Ann"), nil) // someone is online, so chats queue
		cards := n.start(t, e, n.newVisitor(t, e).VisitorToken, e.cards.ID, "Cara")
		loans := n.start(t, e, n.newVisitor(t, e).VisitorToken, e.loans.ID, "Lou")

		e.clock.Advance(2 * time.Minute)
		if k, err := n.svc.SweepMissed(t.Context()); err != nil || k != 1 {
			t.Fatalf("SweepMissed after 2 minutes = %d, %v; want 1 (the Cards chat, 60 s timeout)", k, err)
		}
		for _, tt := range []struct {
			name, id string
			missed   bool
		}{{"cards", cards.ConversationID, true}, {"loans", loans.ConversationID, false}} {
			var status string
			if err := e.db.Gorm.WithContext(migrations.WithTenant(t.Context(), e.tenant.ID)).Table("conversations").Select("status").Where("id = ?", tt.id).Scan(&status).Error; err != nil {
				t.Fatal(err)
			}
			if (status == chat.StatusMissed) != tt.missed {
				t.Errorf("%s chat status = %q, want missed %v", tt.name, status, tt.missed)
			}
		}
		e.clock.Advance(4 * time.Minute)
		if k, err := n.svc.SweepMissed(t.Context()); err != nil || k != 1 {
			t.Fatalf("SweepMissed after 6 minutes = %d, %v; want 1 (the Loans chat, the site's 5 minutes)", k, err)
		}
	})
}

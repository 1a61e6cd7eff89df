package chathttp_test

import (
	"net/http"
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

// TestDepartmentHours: a department with its own weekly hours takes chats only then, whatever
// the site's hours; a department without keeps the site's (always open by default).
func TestDepartmentHours(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		admin := &tenant.Admin{DB: e.db.Gorm, Store: e.tenants, Audit: e.audit, Node: "test"}
		// The test clock starts on Monday 2026-01-05 at 09:00 UTC: Cards opens on Tuesdays only.
		if _, err := admin.UpdateDepartment(t.Context(), tenant.Actor{UserID: "u-admin"}, e.tenant.ID, e.cards.ID,
			tenant.DepartmentInput{Name: "Cards", DepartmentSettings: tenant.DepartmentSettings{
				Hours: &tenant.Hours{Timezone: "UTC", Days: map[string]tenant.Span{"tue": {Open: "08:00", Close: "18:00"}}}}}); err != nil {
			t.Fatal(err)
		}
		n.agentSocket(t, e.fullAgent("Ann"), nil)
		var eb errBody
		if code := do(t, http.MethodPost, n.widgetURL(e, "/chats"), n.newVisitor(t, e).VisitorToken, map[string]any{"department_id": e.cards.ID}, &eb); code != http.StatusConflict ||
			eb.Error.Code != "chat_offline" || eb.Error.Details["reason"] != "outside_hours" {
			t.Fatalf("start in Cards on Monday = %d %+v, want 409 chat_offline outside_hours", code, eb)
		}
		n.start(t, e, n.newVisitor(t, e).VisitorToken, e.loans.ID, "Lou") // Loans keeps the site's hours
		e.clock.Advance(24 * time.Hour)
		n.agentSocket(t, e.fullAgent("Bob"), nil) // someone online on Tuesday
		n.start(t, e, n.newVisitor(t, e).VisitorToken, e.cards.ID, "Cara")
	})
}

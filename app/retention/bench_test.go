package retention_test

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/app/retention"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// BenchmarkConversationHeld is the transcript module's hold check (once per transcript shown,
// and before every delete) with a handful of active holds, on SQLite.
func BenchmarkConversationHeld(b *testing.B) {
	w := newWorld(b, migratetest.Open(b, migrations.SQLite))
	bg := context.Background()
	c := w.conversation(w.siteA, w.visitorID(), "ended", day)
	for range 5 {
		other := w.conversation(w.siteA, w.visitorID(), "ended", day)
		if _, err := w.svc.PlaceHold(bg, w.actor, retention.HoldVisitor, other.Visitor, "Matter."); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if held, err := w.svc.ConversationHeld(bg, w.ten.ID, c.ID); err != nil || held {
			b.Fatal(held, err)
		}
	}
}

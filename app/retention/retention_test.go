package retention_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/retention"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/scan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault"
)

// TestDeleteCryptoShreds: a deleted conversation leaves no row but its key's tombstone, and with
// full database access what was copied of it beforehand stays unreadable — through this node's
// envelope and through a fresh one with no cached key (another node, a restored backup) — and
// the PAN discovery scan finds nothing of it.
func TestDeleteCryptoShreds(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		ctx := migrations.WithTenant(context.Background(), w.ten.ID)
		c := w.conversation(w.siteA, w.visitorID(), "ended", day)
		kept := w.conversation(w.siteA, w.visitorID(), "ended", day)
		if got, err := w.a.Envelope.OpenString(ctx, c.binding, c.Body); err != nil || !strings.Contains(got, "mortgage") {
			t.Fatalf("before deletion the message opens: %q, %v", got, err)
		}
		if err := w.svc.DeleteConversation(context.Background(), w.actor, c.ID); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"conversation_events", "chat_files", "conversation_participants"} {
			if n := w.count(table, "conversation_id = ?", c.ID); n != 0 {
				t.Errorf("%s keeps %d rows of the deleted conversation", table, n)
			}
		}
		if n := w.count("conversations", "id = ?", c.ID); n != 0 {
			t.Errorf("the conversation row is still there")
		}
		if n := w.count("data_keys", "scope_id = ? AND shredded_at IS NOT NULL AND wrapped_key = ''", c.ID); n != 1 {
			t.Errorf("data key tombstones = %d, want 1", n)
		}
		if n := w.count("conversation_events", "conversation_id = ?", kept.ID); n != 1 {
			t.Errorf("the other conversation lost its messages")
		}
		if _, err := w.a.Envelope.OpenString(ctx, c.binding, c.Body); !errors.Is(err, vault.ErrShredded) {
			t.Errorf("Open after deletion = %v, want ErrShredded", err)
		}
		fresh, err := vault.NewEnvelope(vault.EnvelopeConfig{Provider: w.a.Keys, Store: vault.NewStore(db, nil)})
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		if _, err := fresh.OpenString(ctx, c.binding, c.Body); !errors.Is(err, vault.ErrShredded) {
			t.Errorf("Open through a fresh envelope = %v, want ErrShredded", err)
		}
		if _, err := fresh.SealString(ctx, c.binding, "new"); !errors.Is(err, vault.ErrShredded) {
			t.Errorf("a shredded conversation got a new key: %v", err)
		}
		locs, err := (&scan.Scanner{}).ScanDatabase(context.Background(), db, scan.ParleySealed(), fresh)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range locs {
			if l.Matches > 0 || l.Error != "" {
				t.Errorf("scan: %s has %d card numbers (error %q)", l.Name, l.Matches, l.Error)
			}
		}
		evs := w.events(w.ten.ID, audit.ActionTranscriptDelete)
		if len(evs) != 1 {
			t.Fatalf("transcript.delete records = %d, want 1", len(evs))
		}
		ev := evs[0]
		if ev.Target.ID != c.ID || ev.Actor.ID != w.owner.ID || ev.Details["site_id"] != w.siteA.ID || ev.RequestID != "req-1" {
			t.Errorf("audit record = %+v", ev.Event)
		}
		// Deleting again, or another organisation's conversation, is not found.
		if err := w.svc.DeleteConversation(context.Background(), w.actor, c.ID); !errors.Is(err, retention.ErrNotFound) {
			t.Errorf("second delete = %v, want ErrNotFound", err)
		}
		foreign := w.conversation(w.siteO, w.visitorID(), "ended", day)
		if err := w.svc.DeleteConversation(context.Background(), w.actor, foreign.ID); !errors.Is(err, retention.ErrNotFound) {
			t.Errorf("other tenant's delete = %v, want ErrNotFound", err)
		}
		live := w.conversation(w.siteA, w.visitorID(), "active", 0)
		if err := w.svc.DeleteConversation(context.Background(), w.actor, live.ID); !errors.Is(err, retention.ErrLive) {
			t.Errorf("live delete = %v, want ErrLive", err)
		}
	})
}

// TestLegalHolds: a hold on the conversation, its visitor or the organisation refuses deletion;
// placing and lifting are audited with their reason; reasons are bounded and card-free.
func TestLegalHolds(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		bg := context.Background()
		c := w.conversation(w.siteA, w.visitorID(), "ended", day)
		other := w.conversation(w.siteO, w.visitorID(), "ended", day)
		cases := []struct {
			name   string
			kind   retention.HoldKind
			target string
		}{
			{"conversation", retention.HoldConversation, c.ID},
			{"visitor", retention.HoldVisitor, c.Visitor},
			{"organisation", retention.HoldOrganisation, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				h, err := w.svc.PlaceHold(bg, w.actor, tc.kind, tc.target, "  Matter 2026-14: regulator request  ")
				if err != nil {
					t.Fatal(err)
				}
				if held, err := w.svc.ConversationHeld(bg, w.ten.ID, c.ID); err != nil || !held {
					t.Errorf("ConversationHeld = %v, %v; want true", held, err)
				}
				if _, err := w.svc.PlaceHold(bg, w.actor, tc.kind, tc.target, "Again."); !errors.Is(err, retention.ErrHoldExists) {
					t.Errorf("second hold = %v, want ErrHoldExists", err)
				}
				if err := w.svc.DeleteConversation(bg, w.actor, c.ID); !errors.Is(err, retention.ErrHeld) {
					t.Errorf("delete under hold = %v, want ErrHeld", err)
				}
				if _, err := w.svc.ReleaseHold(bg, w.actor, h.ID, "Matter closed."); err != nil {
					t.Fatal(err)
				}
				if held, _ := w.svc.ConversationHeld(bg, w.ten.ID, c.ID); held {
					t.Error("still held after release")
				}
				if _, err := w.svc.ReleaseHold(bg, w.actor, h.ID, "Twice."); !errors.Is(err, retention.ErrNotFound) {
					t.Errorf("second release = %v, want ErrNotFound", err)
				}
			})
		}
		placed, released := w.events(w.ten.ID, audit.ActionLegalHoldPlace), w.events(w.ten.ID, audit.ActionLegalHoldRelease)
		if len(placed) != 3 || len(released) != 3 {
			t.Fatalf("hold records = %d placed, %d released; want 3 and 3", len(placed), len(released))
		}
		if ev := placed[0]; ev.Reason != "Matter 2026-14: regulator request" || ev.Details["kind"] != "conversation" || ev.Details["target_id"] != c.ID {
			t.Errorf("place record = %+v", ev.Event)
		}
		if ev := released[2]; ev.Reason != "Matter closed." || ev.Details["target_id"] != w.ten.ID {
			t.Errorf("release record = %+v", ev.Event)
		}
		refusals := []struct {
			name   string
			kind   retention.HoldKind
			target string
			reason string
			want   error
		}{
			{"card number in the reason", retention.HoldConversation, c.ID, "Card 4111 1111 1111 1111 disputed", retention.ErrCardNumber},
			{"empty reason", retention.HoldConversation, c.ID, "   ", retention.ErrReason},
			{"long reason", retention.HoldConversation, c.ID, strings.Repeat("a", retention.MaxReason+1), retention.ErrReason},
			{"other tenant's conversation", retention.HoldConversation, other.ID, "Matter.", retention.ErrNotFound},
			{"other tenant's visitor", retention.HoldVisitor, other.Visitor, "Matter.", retention.ErrNotFound},
			{"unknown visitor", retention.HoldVisitor, w.visitorID(), "Matter.", retention.ErrNotFound},
			{"malformed id", retention.HoldConversation, "'; DROP TABLE x", "Matter.", retention.ErrNotFound},
			{"unknown kind", retention.HoldKind("site"), c.ID, "Matter.", retention.ErrHoldKind},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := w.svc.PlaceHold(bg, w.actor, tc.kind, tc.target, tc.reason); !errors.Is(err, tc.want) {
					t.Errorf("PlaceHold = %v, want %v", err, tc.want)
				}
			})
		}
		if n := w.count("legal_holds", "reason LIKE ?", "%1111%"); n != 0 {
			t.Error("a card number reached legal_holds")
		}
		if err := w.svc.DeleteConversation(bg, w.actor, c.ID); err != nil {
			t.Errorf("delete after every hold was lifted = %v", err)
		}
	})
}

// TestPeriods: the floor refuses a shorter period and names itself; a floor above a period in
// force is refused; site periods belong to the organisation's sites; the visitor kind is the
// visitor store's retention.
func TestPeriods(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		bg := context.Background()
		var fe *retention.FloorError
		if _, err := w.svc.SetPeriod(bg, w.actor, retention.Transcripts, 10); !errors.As(err, &fe) || fe.Min != 30 {
			t.Errorf("10 days of transcripts = %v, want the default floor of 30", err)
		}
		if _, err := w.svc.SetPeriod(bg, w.actor, retention.Transcripts, 3651); !errors.Is(err, retention.ErrDays) {
			t.Errorf("3651 days = %v, want ErrDays", err)
		}
		if changed, err := w.svc.SetMinimum(bg, w.actor, retention.Transcripts, 60); err != nil || !changed {
			t.Fatalf("minimum 60 = %v, %v", changed, err)
		}
		if _, err := w.svc.SetPeriod(bg, w.actor, retention.Transcripts, 45); !errors.As(err, &fe) || fe.Min != 60 {
			t.Errorf("45 days under a 60-day floor = %v", err)
		}
		if changed, err := w.svc.SetPeriod(bg, w.actor, retention.Transcripts, 90); err != nil || !changed {
			t.Fatalf("90 days = %v, %v", changed, err)
		}
		if changed, err := w.svc.SetPeriod(bg, w.actor, retention.Transcripts, 90); err != nil || changed {
			t.Errorf("the same period again = %v, %v; want unchanged", changed, err)
		}
		if _, err := w.svc.SetSitePeriod(bg, w.actor, w.siteB.ID, retention.Transcripts, 70); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SetMinimum(bg, w.actor, retention.Transcripts, 80); !errors.Is(err, retention.ErrFloorAbove) {
			t.Errorf("a floor above a site's period = %v, want ErrFloorAbove", err)
		}
		if _, err := w.svc.SetSitePeriod(bg, w.actor, w.siteO.ID, retention.Transcripts, 70); !errors.Is(err, retention.ErrNotFound) {
			t.Errorf("another tenant's site = %v, want ErrNotFound", err)
		}
		p, err := w.svc.Period(bg, w.ten.ID, retention.Transcripts)
		if err != nil || p.Days != 90 || p.Min != 60 || p.Sites[w.siteB.ID] != 70 || p.IsDefault {
			t.Errorf("period = %+v, %v", p, err)
		}
		if _, err := w.svc.SetSitePeriod(bg, w.actor, w.siteB.ID, retention.Transcripts, 0); err != nil {
			t.Fatal(err)
		}
		if p, _ := w.svc.Period(bg, w.ten.ID, retention.Transcripts); len(p.Sites) != 0 {
			t.Errorf("site period not removed: %v", p.Sites)
		}
		if _, err := w.svc.SetPeriod(bg, w.actor, retention.Visitors, 7); err != nil {
			t.Fatal(err)
		}
		if d, err := w.a.Visitors.Retention(bg, w.ten.ID); err != nil || d != 7 {
			t.Errorf("visitor store retention = %d, %v; want 7", d, err)
		}
		if d, _ := w.a.Visitors.Retention(bg, w.other.ID); d != 30 {
			t.Errorf("the other tenant's visitor retention = %d, want the default", d)
		}
		if got := len(w.events(w.ten.ID, audit.ActionRetentionChange)); got != 5 {
			t.Errorf("retention.change records = %d, want 5", got)
		}
	})
}

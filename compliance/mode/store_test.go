package mode

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// appended records the events a Store appends.
type appended struct{ events []audit.Event }

func (a *appended) Append(_ context.Context, _ *gorm.DB, ev audit.Event) error {
	a.events = append(a.events, ev)
	return nil
}

// TestStore: the mode is kept per organisation, each change audited with the previous mode and
// its reason; the same mode again changes and records nothing; turning a framework off without a
// reason is refused; InMode lists, across organisations, only those with a framework on.
func TestStore(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		for _, id := range []string{"org-a", "org-b", "org-c"} {
			if err := migratetest.Beneath(t, db).Gorm.Exec(`INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, id, id, id, now, now).Error; err != nil {
				t.Fatal(err)
			}
		}
		rec := &appended{}
		var changed []string
		s := &Store{DB: db.Gorm, Audit: rec, Now: func() time.Time { return now }, Changed: func(id string) { changed = append(changed, id) }}
		ctx := context.Background()
		if st, err := s.Get(ctx, "org-a"); err != nil || st.Mode.On() || !st.UpdatedAt.IsZero() {
			t.Fatalf("never set: %+v %v", st, err)
		}
		by := audit.Actor{ID: "u1", Kind: audit.ActorUser}
		st, ok, err := s.Set(ctx, Change{TenantID: "org-a", Mode: pci, Actor: by})
		if err != nil || !ok || st.Mode != pci || st.UpdatedBy != "u1" || !st.UpdatedAt.Equal(now) {
			t.Fatalf("turn on: %+v %t %v", st, ok, err)
		}
		if _, ok, err := s.Set(ctx, Change{TenantID: "org-a", Mode: pci, Actor: by}); err != nil || ok {
			t.Fatalf("same mode: %t %v", ok, err)
		}
		if _, _, err := s.Set(ctx, Change{TenantID: "org-a", Mode: hipaa, Actor: by, Reason: "  "}); !errors.Is(err, ErrReasonRequired) {
			t.Fatalf("pci off without a reason: %v", err)
		}
		if _, _, err := s.Set(ctx, Change{TenantID: "org-b", Mode: both, Actor: by}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Set(ctx, Change{TenantID: "org-c", Mode: hipaa, Actor: by}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Set(ctx, Change{TenantID: "org-c", Mode: Mode{}, Actor: by, Reason: "pilot over"}); err != nil {
			t.Fatal(err)
		}
		modes, err := s.InMode(ctx)
		if err != nil || len(modes) != 2 || modes["org-a"] != pci || modes["org-b"] != both {
			t.Fatalf("in mode: %v %v", modes, err)
		}
		if st, _ := s.Get(ctx, "org-c"); st.Mode.On() || st.Reason != "pilot over" {
			t.Errorf("org-c: %+v", st)
		}
		if len(rec.events) != 4 || len(changed) != 4 {
			t.Fatalf("got %d events, %d notices; want 4", len(rec.events), len(changed))
		}
		off := rec.events[3]
		if off.Tenant != "org-c" || off.Action != audit.ActionComplianceMode || off.Reason != "pilot over" ||
			off.Details["previous"] != "hipaa" || off.Details["turned_off"] != "hipaa" || off.Details["mode"] != "none" {
			t.Errorf("turning off recorded as %+v", off)
		}
		if on := rec.events[1]; on.Details["turned_on"] != "pci,hipaa" || on.Details["previous"] != "none" {
			t.Errorf("turning on recorded as %+v", on)
		}
	})
}

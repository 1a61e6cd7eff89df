package evidence

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestStoreKeepsSixYears: reports are kept, listed newest first without their bundles, scoped
// to their organisation, and the sweep deletes only those whose six years have passed.
func TestStoreKeepsSixYears(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		now := testNow
		for _, id := range []string{"org-a", "org-b"} {
			if err := migratetest.Beneath(t, db).Gorm.Exec(`INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, id, id, id, now, now).Error; err != nil {
				t.Fatal(err)
			}
		}
		s := &Store{DB: db.Gorm}
		ctx := context.Background()
		save := func(tenant, id string, created time.Time) {
			t.Helper()
			if err := s.Save(ctx, Stored{ID: id, TenantID: tenant, Framework: PCI, PeriodFrom: created.AddDate(-1, 0, 0), PeriodTo: created,
				CreatedAt: created, CreatedBy: "u1", Pass: 3, Fail: 1, Manual: 2, SHA256: "ab", Size: 4, Bundle: []byte("tar!")}); err != nil {
				t.Fatal(err)
			}
		}
		save("org-a", "old", now.AddDate(-6, 0, -1))
		save("org-a", "edge", now.AddDate(-6, 0, 1))
		save("org-a", "new", now)
		save("org-b", "other", now.AddDate(-7, 0, 0))

		list, err := s.List(ctx, "org-a", 10)
		if err != nil || len(list) != 3 || list[0].ID != "new" || list[0].Bundle != nil || list[0].Fail != 1 {
			t.Fatalf("list: %+v %v", list, err)
		}
		if r, err := s.Get(ctx, "org-a", "new"); err != nil || string(r.Bundle) != "tar!" || !r.RetainUntil.Equal(now.AddDate(6, 0, 0)) {
			t.Fatalf("get: %+v %v", r, err)
		}
		if _, err := s.Get(ctx, "org-a", "other"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another organisation's report: %v", err)
		}
		n, err := s.Expire(ctx, "org-a", now)
		if err != nil || n != 1 {
			t.Fatalf("expire: %d %v", n, err)
		}
		if _, err := s.Get(ctx, "org-a", "edge"); err != nil {
			t.Fatalf("a report younger than six years was deleted: %v", err)
		}
		if _, err := s.Get(ctx, "org-a", "old"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the six-year-old report is still there: %v", err)
		}
		if _, err := s.Get(ctx, "org-b", "other"); err != nil {
			t.Fatalf("the sweep of one organisation touched another's: %v", err)
		}
	})
}

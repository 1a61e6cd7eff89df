package migrations_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestColumnTreatments walks the migrated schema on both dialects: every text and binary column
// must have a card-guard treatment, and every declared column must exist. A new column that is
// neither declared ciphertext nor covered by the guard fails here.
func TestColumnTreatments(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		got := textColumnsOf(t, db)
		declared := migrations.DeclaredColumns()
		var missing, stale []string
		for _, c := range got {
			if _, ok := declared[c]; !ok {
				missing = append(missing, c)
			}
		}
		have := map[string]bool{}
		for _, c := range got {
			have[c] = true
		}
		for c := range declared {
			if !have[c] {
				stale = append(stale, c)
			}
		}
		sort.Strings(missing)
		sort.Strings(stale)
		if len(missing) > 0 {
			t.Errorf("text columns without a card-guard treatment (declare them in migrations/columns.go): %s", strings.Join(missing, ", "))
		}
		if len(stale) > 0 {
			t.Errorf("declared columns the schema does not have: %s", strings.Join(stale, ", "))
		}
		if len(got) < 200 {
			t.Fatalf("found only %d text columns; the schema walk is broken", len(got))
		}
	})
}

// textColumnsOf lists the schema's text and binary columns as "table.column".
func textColumnsOf(t *testing.T, db *migrations.DB) []string {
	t.Helper()
	var rows []struct{ T, C string }
	var err error
	switch db.Dialect {
	case migrations.Postgres:
		err = db.Gorm.Raw(`SELECT table_name AS t, column_name AS c FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name NOT LIKE 'goose%'
			AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'xml')`).Scan(&rows).Error
	default:
		err = db.Gorm.Raw(`SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'goose%'
			AND (upper(p.type) IN ('TEXT', 'BLOB', 'JSON', 'CLOB', '') OR upper(p.type) LIKE '%CHAR%')`).Scan(&rows).Error
	}
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.T+"."+r.C)
	}
	return out
}

// Test models over real tables: one refusing column (tenants.name), one masking column
// (roles.description) and one generated column (tenants.id).
type guardTenant struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Slug      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (guardTenant) TableName() string { return "tenants" }

type guardRole struct {
	TenantID    string `gorm:"primaryKey"`
	Name        string `gorm:"primaryKey"`
	Description *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (guardRole) TableName() string { return "roles" }

const testCard = "4111 1111 1111 1111"

// TestCardGuard writes card numbers through every kind of GORM write on both dialects: refused
// columns refuse the statement and write nothing, masked columns keep only the last four digits,
// generated columns pass.
func TestCardGuard(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		// The writes span tenants (and row-level security has its own test).
		ctx := migrations.AcrossTenants(context.Background())
		g := db.Gorm.WithContext(ctx)
		now := time.Now().UTC()
		base := guardTenant{ID: "t-guard", Name: "Acme", Slug: "acme", CreatedAt: now}
		if err := g.Create(&base).Error; err != nil {
			t.Fatal(err)
		}
		refusals := []struct {
			name string
			run  func(tx *gorm.DB) error
		}{
			{"create struct", func(tx *gorm.DB) error {
				return tx.Create(&guardTenant{ID: "t2", Name: "Acme " + testCard, Slug: "acme2", CreatedAt: now}).Error
			}},
			{"create slice", func(tx *gorm.DB) error {
				return tx.Create(&[]guardTenant{{ID: "t3", Name: "ok", Slug: "ok3", CreatedAt: now}, {ID: "t4", Name: "x", Slug: "card-5500-0000-0000-0004", CreatedAt: now}}).Error
			}},
			{"create map", func(tx *gorm.DB) error {
				return tx.Model(&guardTenant{}).Create(map[string]any{"id": "t5", "name": "４１１１１１１１１１１１１１１１", "slug": "s5", "created_at": now, "updated_at": now}).Error
			}},
			{"table map", func(tx *gorm.DB) error {
				return tx.Table("tenants").Create(map[string]any{"id": "t6", "name": "n", "slug": "4111.1111.1111.1111", "created_at": now, "updated_at": now}).Error
			}},
			{"update column", func(tx *gorm.DB) error {
				return tx.Model(&guardTenant{}).Where("id = ?", base.ID).Update("name", "pay with 4111111111111111 please").Error
			}},
			{"updates map", func(tx *gorm.DB) error {
				return tx.Model(&guardTenant{}).Where("id = ?", base.ID).Updates(map[string]any{"Name": "x", "slug": "a4111111111111111b"}).Error
			}},
			{"updates struct", func(tx *gorm.DB) error {
				return tx.Model(&guardTenant{ID: base.ID}).Updates(guardTenant{Name: "3400 0000 0000 009"}).Error
			}},
			{"save", func(tx *gorm.DB) error {
				c := base
				c.Name = "6011-0000-0000-0004"
				return tx.Save(&c).Error
			}},
			{"upsert set", func(tx *gorm.DB) error {
				return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}},
					DoUpdates: clause.Assignments(map[string]any{"name": testCard})}).Create(&guardTenant{ID: base.ID, Name: "x", Slug: "acme", CreatedAt: now}).Error
			}},
			{"raw insert", func(tx *gorm.DB) error {
				return tx.Exec("INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", "t7", testCard, "s7", now, now).Error
			}},
			{"raw update", func(tx *gorm.DB) error {
				return tx.Exec("UPDATE tenants SET name = ? WHERE id = ?", "3530111333300000", base.ID).Error
			}},
			{"raw update after a comment", func(tx *gorm.DB) error {
				return tx.Exec("/* rename */ -- and more\n UPDATE tenants SET name = ? WHERE id = ?", testCard, base.ID).Error
			}},
			{"raw returning scan", func(tx *gorm.DB) error {
				var id string
				return tx.Raw("UPDATE tenants SET name = ? WHERE id = ? RETURNING id", testCard, base.ID).Scan(&id).Error
			}},
			{"updates another struct type", func(tx *gorm.DB) error {
				type rename struct{ Name string }
				return tx.Model(&guardTenant{}).Where("id = ?", base.ID).Updates(&rename{Name: testCard}).Error
			}},
			{"update expression", func(tx *gorm.DB) error {
				return tx.Model(&guardTenant{}).Where("id = ?", base.ID).Update("name", gorm.Expr("?", testCard)).Error
			}},
			{"updates map expression", func(tx *gorm.DB) error {
				return tx.Model(&guardTenant{}).Where("id = ?", base.ID).Updates(map[string]any{"name": gorm.Expr("? || ?", "x", testCard)}).Error
			}},
		}
		for _, r := range refusals {
			t.Run(r.name, func(t *testing.T) {
				err := migrations.Transaction(g, r.run)
				var ce *migrations.CardNumberError
				if !errors.As(err, &ce) || !errors.Is(err, migrations.ErrCardNumber) {
					t.Fatalf("error = %v, want a CardNumberError", err)
				}
				if ce.Table != "tenants" {
					t.Errorf("table %q, want tenants", ce.Table)
				}
				if strings.Contains(err.Error(), "1111") || strings.Contains(err.Error(), "0004") {
					t.Errorf("error text carries the number: %v", err)
				}
				var n int64
				if err := g.Model(&guardTenant{}).Count(&n).Error; err != nil || n != 1 {
					t.Fatalf("tenants = %d (%v), want only the first: a refused write left rows", n, err)
				}
				var cur guardTenant
				if err := g.Take(&cur, "id = ?", base.ID).Error; err != nil || cur.Name != "Acme" || cur.Slug != "acme" {
					t.Fatalf("tenant = %+v (%v), want it unchanged", cur, err)
				}
			})
		}

		t.Run("mask", func(t *testing.T) {
			desc := "call me, card " + testCard + " exp 12/26"
			r := guardRole{TenantID: base.ID, Name: "teller", Description: &desc, CreatedAt: now, UpdatedAt: now}
			if err := g.Create(&r).Error; err != nil {
				t.Fatal(err)
			}
			var got guardRole
			if err := g.Take(&got, "tenant_id = ? AND name = ?", base.ID, "teller").Error; err != nil {
				t.Fatal(err)
			}
			if got.Description == nil || pan.Contains(*got.Description) || !strings.Contains(*got.Description, "•••• 1111") {
				t.Fatalf("stored description %q, want the card masked to its last four", deref(got.Description))
			}
			if err := g.Model(&guardRole{}).Where("tenant_id = ? AND name = ?", base.ID, "teller").
				Update("description", "new card 5500 0000 0000 0004").Error; err != nil {
				t.Fatal(err)
			}
			if err := g.Take(&got, "tenant_id = ? AND name = ?", base.ID, "teller").Error; err != nil {
				t.Fatal(err)
			}
			if pan.Contains(*got.Description) || !strings.HasSuffix(*got.Description, "0004") {
				t.Fatalf("updated description %q, want the card masked", *got.Description)
			}
			if err := g.Model(&guardRole{}).Where("tenant_id = ? AND name = ?", base.ID, "teller").
				Update("description", gorm.Expr("?", "expr card 6011 0000 0000 0004")).Error; err != nil {
				t.Fatal(err)
			}
			if err := g.Take(&got, "tenant_id = ? AND name = ?", base.ID, "teller").Error; err != nil {
				t.Fatal(err)
			}
			if pan.Contains(*got.Description) || !strings.HasPrefix(*got.Description, "expr card") {
				t.Fatalf("description written by an expression %q, want the card masked", *got.Description)
			}
		})

		t.Run("raw ids pass", func(t *testing.T) {
			// An id whose digit groups read as a card number (8-4-4 digits) is an id, not a card.
			id := "41111111-1111-1111-abcd-0123456789ab"
			if err := g.Exec("UPDATE tenants SET updated_at = updated_at WHERE id = ?", id).Error; err != nil {
				t.Fatalf("raw write binding a UUID: %v", err)
			}
		})

		t.Run("generated columns pass", func(t *testing.T) {
			// An id that reads as a card number by chance is not refused: ids are Parley's own.
			if err := g.Create(&guardTenant{ID: "4111111111111111", Name: "Random", Slug: "random", CreatedAt: now}).Error; err != nil {
				t.Fatalf("create with a generated id: %v", err)
			}
		})
	})
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

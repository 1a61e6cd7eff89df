package canned

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
)

// row is a canned_messages row.
type row struct {
	ID           string `gorm:"primaryKey"`
	TenantID     string
	Scope        string
	ScopeKey     string
	OwnerID      string
	DepartmentID *string
	Shortcut     string
	Title        string
	Body         string
	CreatedBy    string
	UpdatedBy    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (row) TableName() string { return "canned_messages" }

func (r row) message() Message {
	m := Message{ID: r.ID, Scope: r.Scope, OwnerID: r.OwnerID, Shortcut: r.Shortcut, Title: r.Title, Body: r.Body,
		UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt}
	if r.DepartmentID != nil {
		m.DepartmentID = *r.DepartmentID
	}
	return m
}

// store holds the canned messages; every statement is scoped by tenant.
type store struct{ db *gorm.DB }

// reach is the part of a tenant's texts a query may return: the shared ones (when shared), the
// user's personal ones (when personal) and those of depts (every department's when allDepts).
type reach struct {
	shared, personal bool
	userID           string
	allDepts         bool
	depts            []string
}

func (r reach) empty() bool { return !r.shared && !r.personal && !r.allDepts && len(r.depts) == 0 }

// where narrows q to what r reaches.
func (r reach) where(q *gorm.DB) *gorm.DB {
	var conds []string
	var args []any
	if r.shared {
		conds = append(conds, "scope = 'shared'")
	}
	if r.personal {
		conds = append(conds, "(scope = 'personal' AND owner_id = ?)")
		args = append(args, r.userID)
	}
	switch {
	case r.allDepts:
		conds = append(conds, "scope = 'department'")
	case len(r.depts) > 0:
		conds = append(conds, "(scope = 'department' AND department_id IN ?)")
		args = append(args, r.depts)
	}
	return q.Where("("+strings.Join(conds, " OR ")+")", args...)
}

// likeEscape escapes s for a LIKE pattern with '\' as the escape character.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// list returns the texts of a tenant r reaches whose shortcut, title or body holds query
// (case-insensitive; every text when query is empty), ordered by shortcut, at most limit.
func (st *store) list(ctx context.Context, tenantID string, r reach, query string, limit int) ([]row, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if r.empty() {
		return nil, nil
	}
	q := r.where(st.db.WithContext(ctx).Where("tenant_id = ?", tenantID))
	if query != "" {
		p := "%" + likeEscape(strings.ToLower(query)) + "%"
		q = q.Where(`(LOWER(shortcut) LIKE ? ESCAPE '\' OR LOWER(title) LIKE ? ESCAPE '\' OR LOWER(body) LIKE ? ESCAPE '\')`, p, p, p)
	}
	var rows []row
	err := q.Order("shortcut, scope, id").Limit(limit).Find(&rows).Error
	return rows, err
}

// get returns one text of a tenant.
func (st *store) get(ctx context.Context, db *gorm.DB, tenantID, id string) (row, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r row
	err := db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&r).Error
	if err == gorm.ErrRecordNotFound {
		return r, ErrNotFound
	}
	return r, err
}

// count returns how many texts a list holds.
func (st *store) count(ctx context.Context, tx *gorm.DB, tenantID, key string) (int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var n int64
	err := tx.WithContext(ctx).Model(&row{}).Where("tenant_id = ? AND scope_key = ?", tenantID, key).Count(&n).Error
	return n, err
}

package retention

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/migrations"
)

// store holds every statement of retention: its own tables (migration 00015) and the removal of
// expired rows from the chat's tables.
type store struct {
	db *gorm.DB
}

func (s store) in(tx *gorm.DB) store { return store{db: tx} }

type periodRow struct {
	TenantID  string `gorm:"primaryKey"`
	Kind      string `gorm:"primaryKey"`
	Days      int
	MinDays   int
	UpdatedBy string
	UpdatedAt time.Time
}

func (periodRow) TableName() string { return "retention_periods" }

type sitePeriodRow struct {
	SiteID    string `gorm:"primaryKey"`
	TenantID  string
	Kind      string `gorm:"primaryKey"`
	Days      int
	UpdatedBy string
	UpdatedAt time.Time
}

func (sitePeriodRow) TableName() string { return "retention_site_periods" }

type holdRow struct {
	ID            string `gorm:"primaryKey"`
	TenantID      string
	Kind          string
	TargetID      string
	Reason        string
	PlacedBy      string
	PlacedAt      time.Time
	ReleasedBy    string
	ReleasedAt    *time.Time
	ReleaseReason string
}

func (holdRow) TableName() string { return "legal_holds" }

type runRow struct {
	ID          string `gorm:"primaryKey"`
	TenantID    string
	Node        string
	StartedBy   string
	Status      string
	StartedAt   time.Time
	FinishedAt  *time.Time
	Transcripts int64
	Files       int64
	Offline     int64
	Visitors    int64
	PageViews   int64
	Held        int64
	Failure     string
}

func (runRow) TableName() string { return "retention_runs" }

func (s store) periods(ctx context.Context, tenantID string) ([]periodRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []periodRow
	err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Find(&rows).Error
	return rows, err
}

func (s store) sitePeriods(ctx context.Context, tenantID string) ([]sitePeriodRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []sitePeriodRow
	err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("site_id, kind").Find(&rows).Error
	return rows, err
}

// setPeriod writes one column (days or min_days) of the tenant's row for kind.
func (s store) setPeriod(ctx context.Context, r periodRow, column string) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "kind"}},
		DoUpdates: clause.AssignmentColumns([]string{column, "updated_by", "updated_at"}),
	}).Create(&r).Error
}

func (s store) setSitePeriod(ctx context.Context, r sitePeriodRow) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	if r.Days == 0 {
		return s.db.WithContext(ctx).Where("tenant_id = ? AND site_id = ? AND kind = ?", r.TenantID, r.SiteID, r.Kind).Delete(&sitePeriodRow{}).Error
	}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "site_id"}, {Name: "kind"}},
		DoUpdates: clause.AssignmentColumns([]string{"days", "updated_by", "updated_at"}),
	}).Create(&r).Error
}

// siteOf reports whether site belongs to the tenant.
func (s store) siteOf(ctx context.Context, tenantID, siteID string) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var n int64
	err := s.db.WithContext(ctx).Table("sites").Where("tenant_id = ? AND id = ?", tenantID, siteID).Count(&n).Error
	return n > 0, err
}

func (s store) activeHolds(ctx context.Context, tenantID string) ([]holdRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var rows []holdRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND released_at IS NULL", tenantID).Order("placed_at DESC, id").Find(&rows).Error
	return rows, err
}

func (s store) activeHold(ctx context.Context, tenantID, kind, target string) (holdRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r holdRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND kind = ? AND target_id = ? AND released_at IS NULL", tenantID, kind, target).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

func (s store) hold(ctx context.Context, tenantID, id string) (holdRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r holdRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

func (s store) addHold(ctx context.Context, r holdRow) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	return s.db.WithContext(ctx).Create(&r).Error
}

// release marks an active hold released; false when it was not active.
func (s store) release(ctx context.Context, r holdRow) (bool, error) {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	res := s.db.WithContext(ctx).Model(&holdRow{}).Where("tenant_id = ? AND id = ? AND released_at IS NULL", r.TenantID, r.ID).
		Updates(map[string]any{"released_by": r.ReleasedBy, "released_at": r.ReleasedAt, "release_reason": r.ReleaseReason})
	return res.RowsAffected == 1, res.Error
}

// conversation is what retention reads of a conversation: ids and times, never content.
type conversation struct {
	ID           string
	SiteID       string
	DepartmentID *string
	VisitorID    string
	AgentID      *string
	Status       string
	CreatedAt    time.Time
	EndedAt      *time.Time
}

func (s store) conversation(ctx context.Context, tenantID, id string) (conversation, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var c conversation
	err := s.db.WithContext(ctx).Table("conversations").
		Select("id, site_id, department_id, visitor_id, agent_id, status, created_at, ended_at").
		Where("tenant_id = ? AND id = ?", tenantID, id).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, ErrNotFound
	}
	return c, err
}

// participated reports whether user took part in the conversation (as its agent or a participant).
func (s store) participated(ctx context.Context, tenantID, convID, userID string) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var n int64
	err := s.db.WithContext(ctx).Table("conversation_participants").
		Where("tenant_id = ? AND conversation_id = ? AND participant_id = ? AND kind <> 'visitor'", tenantID, convID, userID).Count(&n).Error
	return n > 0, err
}

// visitorKnown reports whether the tenant has, or had, a visitor with the id: tracking data, a
// conversation or an offline message.
func (s store) visitorKnown(ctx context.Context, tenantID, id string) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	for _, table := range []string{"visitors", "conversations", "offline_messages"} {
		col := "visitor_id"
		if table == "visitors" {
			col = "id"
		}
		var n int64
		if err := s.db.WithContext(ctx).Table(table).Where("tenant_id = ? AND "+col+" = ?", tenantID, id).Count(&n).Error; err != nil {
			return false, err
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// removeConversation deletes a conversation's rows: its events, files, participants, refusals
// and card form requests, then the conversation. (The foreign keys cascade on PostgreSQL; the
// statements do not rely on it.)
func (s store) removeConversation(ctx context.Context, tenantID, id string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	db := s.db.WithContext(ctx)
	for _, table := range []string{"conversation_events", "chat_files", "conversation_participants", "conversation_refusals", "card_form_requests"} {
		if err := db.Exec("DELETE FROM "+table+" WHERE tenant_id = ? AND conversation_id = ?", tenantID, id).Error; err != nil { // #nosec G202 -- table names are constants of this function
			return err
		}
	}
	return db.Exec("DELETE FROM conversations WHERE tenant_id = ? AND id = ?", tenantID, id).Error
}

func (s store) removeOffline(ctx context.Context, tenantID, id string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	return s.db.WithContext(ctx).Exec("DELETE FROM offline_messages WHERE tenant_id = ? AND id = ?", tenantID, id).Error
}

// sitePart narrows a query of a table with a site_id column to the sites of one period: the
// listed sites, or every site but the excepted ones.
type sitePart struct {
	Sites, Except []string
	Cutoff        time.Time
}

func (p sitePart) apply(q *gorm.DB, col string) *gorm.DB {
	if len(p.Sites) > 0 {
		q = q.Where(col+" IN ?", p.Sites)
	}
	if len(p.Except) > 0 {
		q = q.Where(col+" NOT IN ?", p.Except)
	}
	return q
}

// exclusions are the holds a query leaves out.
type exclusions struct {
	Conversations []string
	Visitors      []string
}

// expiredConversations lists up to limit ended conversations of the period past its cutoff, not
// held; held counts those the holds kept.
func (s store) expiredConversations(ctx context.Context, tenantID string, p sitePart, ex exclusions, limit int) (ids []string, held int64, err error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	base := func() *gorm.DB {
		q := s.db.WithContext(ctx).Table("conversations").
			Where("tenant_id = ? AND status IN ('ended', 'missed') AND COALESCE(ended_at, updated_at) < ?", tenantID, p.Cutoff)
		return p.apply(q, "site_id")
	}
	q := base()
	if len(ex.Conversations) > 0 {
		q = q.Where("id NOT IN ?", ex.Conversations)
	}
	if len(ex.Visitors) > 0 {
		q = q.Where("visitor_id NOT IN ?", ex.Visitors)
	}
	if err = q.Order("id").Limit(limit).Pluck("id", &ids).Error; err != nil {
		return nil, 0, err
	}
	if len(ex.Conversations)+len(ex.Visitors) > 0 {
		hq := base()
		switch {
		case len(ex.Conversations) > 0 && len(ex.Visitors) > 0:
			hq = hq.Where("(id IN ? OR visitor_id IN ?)", ex.Conversations, ex.Visitors)
		case len(ex.Conversations) > 0:
			hq = hq.Where("id IN ?", ex.Conversations)
		default:
			hq = hq.Where("visitor_id IN ?", ex.Visitors)
		}
		err = hq.Count(&held).Error
	}
	return ids, held, err
}

// expiredFiles removes (or, dry, counts) the files of the period past its cutoff, except those
// of held conversations.
func (s store) expiredFiles(ctx context.Context, tenantID string, p sitePart, ex exclusions, dry bool) (int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	convs := p.apply(s.db.WithContext(ctx).Table("conversations").Select("id").Where("tenant_id = ?", tenantID), "site_id")
	if len(ex.Conversations) > 0 {
		convs = convs.Where("id NOT IN ?", ex.Conversations)
	}
	if len(ex.Visitors) > 0 {
		convs = convs.Where("visitor_id NOT IN ?", ex.Visitors)
	}
	q := s.db.WithContext(ctx).Table("chat_files").Where("tenant_id = ? AND created_at < ? AND conversation_id IN (?)", tenantID, p.Cutoff, convs)
	if dry {
		var n int64
		err := q.Count(&n).Error
		return n, err
	}
	res := q.Delete(map[string]any{})
	return res.RowsAffected, res.Error
}

// expiredOffline lists up to limit offline messages of the period past its cutoff, except those
// of held visitors.
func (s store) expiredOffline(ctx context.Context, tenantID string, p sitePart, ex exclusions, limit int) ([]string, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	q := p.apply(s.db.WithContext(ctx).Table("offline_messages").Where("tenant_id = ? AND created_at < ?", tenantID, p.Cutoff), "site_id")
	if len(ex.Visitors) > 0 {
		q = q.Where("visitor_id NOT IN ?", ex.Visitors)
	}
	var ids []string
	err := q.Order("id").Limit(limit).Pluck("id", &ids).Error
	return ids, err
}

// tenants lists every organisation (the job visits each: SECURITY.md, the narrow path).
func (s store) tenants(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.db.WithContext(migrations.AcrossTenants(ctx)).Table("tenants").Order("id").Pluck("id", &ids).Error
	return ids, err
}

func (s store) addRun(ctx context.Context, r runRow) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	return s.db.WithContext(ctx).Create(&r).Error
}

func (s store) finishRun(ctx context.Context, r runRow) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	return s.db.WithContext(ctx).Model(&runRow{}).Where("tenant_id = ? AND id = ?", r.TenantID, r.ID).Updates(map[string]any{
		"status": r.Status, "finished_at": r.FinishedAt, "transcripts": r.Transcripts, "files": r.Files, "offline": r.Offline,
		"visitors": r.Visitors, "page_views": r.PageViews, "held": r.Held, "failure": r.Failure,
	}).Error
}

// interrupt marks runs a stopped node left running as failed (the caller holds the lease).
func (s store) interrupt(ctx context.Context, tenantID string, now time.Time) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	return s.db.WithContext(ctx).Model(&runRow{}).Where("tenant_id = ? AND status = 'running'", tenantID).
		Updates(map[string]any{"status": "failed", "failure": "interrupted", "finished_at": now}).Error
}

func (s store) lastRun(ctx context.Context, tenantID string) (*runRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r runRow
	err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("started_at DESC, id DESC").Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// lease takes or renews the named job's lease for node; false means another node holds it.
func (s store) lease(ctx context.Context, name, node string, now, until time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Exec("INSERT INTO job_leases (name, owner, until_us) VALUES (?, ?, ?) "+
		"ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_us = excluded.until_us "+
		"WHERE job_leases.owner = excluded.owner OR job_leases.until_us < ?",
		name, node, until.UnixMicro(), now.UnixMicro())
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// unlease gives the lease up, so another node may run the job at once.
func (s store) unlease(ctx context.Context, name, node string) error {
	return s.db.WithContext(ctx).Exec("DELETE FROM job_leases WHERE name = ? AND owner = ?", name, node).Error
}

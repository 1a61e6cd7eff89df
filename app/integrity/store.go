package integrity

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
)

// The states of a verification job.
const (
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// ErrNotFound means the tenant has no verification job with that id.
var ErrNotFound = errors.New("integrity: no such verification")

// jobRow is one verification job (audit_verify_jobs, migration 00022). Times are Unix
// microseconds; Result is the finished report as JSON.
type jobRow struct {
	ID         string `gorm:"primaryKey"`
	TenantID   string
	Status     string
	StartedBy  string
	Node       string
	StartedUs  int64
	UpdatedUs  int64
	FinishedUs int64
	Checked    int64
	Total      int64
	Result     string
	Failure    string
}

func (jobRow) TableName() string { return "audit_verify_jobs" }

// store keeps the verification jobs.
type store struct{ db *gorm.DB }

func (s store) insert(ctx context.Context, r jobRow) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	return s.db.WithContext(ctx).Create(&r).Error
}

func (s store) get(ctx context.Context, tenantID, id string) (jobRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r jobRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

// latest returns the tenant's most recent job; ErrNotFound when it never verified.
func (s store) latest(ctx context.Context, tenantID string) (jobRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r jobRow
	err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("started_us DESC, id DESC").Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

// running returns the tenant's running job; ErrNotFound when none runs.
func (s store) running(ctx context.Context, tenantID string) (jobRow, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r jobRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND status = ?", tenantID, StatusRunning).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

// progress records how far a running job got and renews its heartbeat.
func (s store) progress(ctx context.Context, r jobRow, checked, total int64, now time.Time) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	return s.db.WithContext(ctx).Model(&jobRow{}).Where("tenant_id = ? AND id = ? AND status = ?", r.TenantID, r.ID, StatusRunning).
		Updates(map[string]any{"checked": checked, "total": total, "updated_us": now.UnixMicro()}).Error
}

// finish ends a running job as done (with its result) or failed (with a reason); false when it
// was no longer running (another node declared it interrupted).
func (s store) finish(ctx context.Context, r jobRow) (bool, error) {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	res := s.db.WithContext(ctx).Model(&jobRow{}).Where("tenant_id = ? AND id = ? AND status = ?", r.TenantID, r.ID, StatusRunning).
		Updates(map[string]any{"status": r.Status, "checked": r.Checked, "total": r.Total, "result": r.Result, "failure": r.Failure,
			"updated_us": r.UpdatedUs, "finished_us": r.FinishedUs})
	return res.RowsAffected == 1, res.Error
}

// interrupt marks failed a running job whose heartbeat is older than stale: its node stopped.
func (s store) interrupt(ctx context.Context, r jobRow, stale, now time.Time) (bool, error) {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	res := s.db.WithContext(ctx).Model(&jobRow{}).
		Where("tenant_id = ? AND id = ? AND status = ? AND updated_us < ?", r.TenantID, r.ID, StatusRunning, stale.UnixMicro()).
		Updates(map[string]any{"status": StatusFailed, "failure": "interrupted", "finished_us": now.UnixMicro()})
	return res.RowsAffected == 1, res.Error
}

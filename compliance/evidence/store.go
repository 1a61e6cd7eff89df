package evidence

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
)

// RetentionYears is how long a generated report is kept: six years from its creation (HIPAA
// 164.316(b)(2)). Reports have their own retention: no other period shortens it.
const RetentionYears = 6

// ErrNotFound means no report of the organisation has the id.
var ErrNotFound = errors.New("evidence: no such report")

// Stored is a generated report as kept: its description and signed bundle.
type Stored struct {
	ID          string    `gorm:"primaryKey"`
	TenantID    string    `gorm:"column:tenant_id"`
	Framework   Framework `gorm:"column:framework"`
	PeriodFrom  time.Time `gorm:"column:period_from"`
	PeriodTo    time.Time `gorm:"column:period_to"`
	CreatedAt   time.Time `gorm:"column:created_at"`
	CreatedBy   string    `gorm:"column:created_by"`
	Events      int64     `gorm:"column:events"`
	Pass        int       `gorm:"column:pass"`
	Fail        int       `gorm:"column:fail"`
	Manual      int       `gorm:"column:manual"`
	SHA256      string    `gorm:"column:sha256"`
	Size        int64     `gorm:"column:size"`
	Bundle      []byte    `gorm:"column:bundle"`
	RetainUntil time.Time `gorm:"column:retain_until"`
	// Status is queued, running, done or failed: a report generated in the background is a
	// row from the moment it is asked for; only a done report has a bundle.
	Status JobStatus `gorm:"column:status"`
	// Progress is how far generation got, in percent; Stage names the step it is at.
	Progress int    `gorm:"column:progress"`
	Stage    string `gorm:"column:stage"`
	// Attempts counts the runs that took the job; HeartbeatUs is when its runner last said it
	// was alive (Unix microseconds). Failure names why a failed job failed, by kind.
	Attempts    int    `gorm:"column:attempts"`
	HeartbeatUs int64  `gorm:"column:heartbeat_us"`
	Failure     string `gorm:"column:failure"`
}

// JobStatus is the state of a report's generation.
type JobStatus string

// The states of a report's generation.
const (
	JobQueued  JobStatus = "queued"
	JobRunning JobStatus = "running"
	JobDone    JobStatus = "done"
	JobFailed  JobStatus = "failed"
)

// Pending reports whether the report is still to be generated (queued or running).
func (r Stored) Pending() bool { return r.Status == JobQueued || r.Status == JobRunning }

// TableName implements gorm's Tabler.
func (Stored) TableName() string { return "evidence_reports" }

// Store keeps generated reports.
type Store struct {
	DB *gorm.DB
}

// Save keeps a report; RetainUntil is set to six years after CreatedAt.
func (s *Store) Save(ctx context.Context, r Stored) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	r.CreatedAt, r.PeriodFrom, r.PeriodTo = r.CreatedAt.UTC(), r.PeriodFrom.UTC(), r.PeriodTo.UTC()
	r.RetainUntil = r.CreatedAt.AddDate(RetentionYears, 0, 0)
	if r.Status == "" {
		r.Status, r.Progress = JobDone, 100
	}
	if r.Bundle == nil {
		r.Bundle = []byte{}
	}
	return s.DB.WithContext(ctx).Create(&r).Error
}

// Queue keeps a report to be generated in the background: no bundle yet, status queued.
func (s *Store) Queue(ctx context.Context, r Stored) error {
	r.Status, r.Progress, r.Stage, r.Bundle, r.SHA256, r.Size = JobQueued, 0, "queued", []byte{}, "", 0
	return s.Save(ctx, r)
}

// List returns the organisation's reports, newest first, without their bundles.
func (s *Store) List(ctx context.Context, tenantID string, limit int) ([]Stored, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var out []Stored
	err := s.DB.WithContext(ctx).Omit("bundle").Where("tenant_id = ?", tenantID).
		Order("created_at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// Get returns one report of the organisation with its bundle; another organisation's is
// ErrNotFound.
func (s *Store) Get(ctx context.Context, tenantID, id string) (Stored, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r Stored
	err := s.DB.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Stored{}, ErrNotFound
	}
	return r, err
}

// Status returns one report of the organisation without its bundle: its generation status.
func (s *Store) Status(ctx context.Context, tenantID, id string) (Stored, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	var r Stored
	err := s.DB.WithContext(ctx).Omit("bundle").Where("tenant_id = ? AND id = ?", tenantID, id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Stored{}, ErrNotFound
	}
	return r, err
}

// Expire deletes the organisation's reports whose six years ended before now, and nothing
// younger; it returns how many went.
func (s *Store) Expire(ctx context.Context, tenantID string, now time.Time) (int64, error) {
	return s.ExpireIn(ctx, s.DB, tenantID, now)
}

// ExpireIn is Expire inside the caller's transaction tx, so the sweep's audit record is written
// with the deletion or not at all.
func (s *Store) ExpireIn(ctx context.Context, tx *gorm.DB, tenantID string, now time.Time) (int64, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	res := tx.WithContext(ctx).Where("tenant_id = ? AND retain_until < ?", tenantID, now.UTC()).Delete(&Stored{})
	return res.RowsAffected, res.Error
}

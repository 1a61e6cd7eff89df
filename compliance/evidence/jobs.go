package evidence

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
)

// Job states are kept in evidence_reports (migration 00022): the console queues a row, a runner
// holding the evidence job's lease takes it (claim), reports its progress and heartbeat while it
// generates, and completes or fails it. A row whose runner stopped (no heartbeat for
// StaleAfter) is taken again until MaxAttempts runs have tried it, then marked failed
// ("interrupted"), so no job stays running forever.

// claim takes the oldest job to run: a queued one, or a running one whose heartbeat is older than
// stale and that has been tried fewer than maxAttempts times. It marks it running (one more
// attempt, heartbeat now) and returns it without its bundle; ok is false when there is none.
// Jobs span organisations: the runner is one of the few named paths across tenants.
func (s *Store) claim(ctx context.Context, now, stale time.Time, maxAttempts int) (Stored, bool, error) {
	ctx = migrations.AcrossTenants(ctx) // the evidence job runner serves every organisation (SECURITY.md)
	for range 5 {
		var r Stored
		err := s.DB.WithContext(ctx).Omit("bundle").
			Where("status = ? OR (status = ? AND heartbeat_us < ? AND attempts < ?)", JobQueued, JobRunning, stale.UnixMicro(), maxAttempts).
			Order("created_at, id").Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Stored{}, false, nil
		}
		if err != nil {
			return Stored{}, false, err
		}
		// Taken only if nobody took it meanwhile: the row must be as it was read.
		res := s.DB.WithContext(migrations.WithTenant(ctx, r.TenantID)).Model(&Stored{}).
			Where("id = ? AND tenant_id = ? AND status = ? AND attempts = ? AND heartbeat_us = ?", r.ID, r.TenantID, r.Status, r.Attempts, r.HeartbeatUs).
			Updates(map[string]any{"status": JobRunning, "attempts": r.Attempts + 1, "heartbeat_us": now.UnixMicro(), "stage": "starting", "progress": 0})
		if res.Error != nil {
			return Stored{}, false, res.Error
		}
		if res.RowsAffected == 1 {
			r.Status, r.Attempts, r.HeartbeatUs = JobRunning, r.Attempts+1, now.UnixMicro()
			return r, true, nil
		}
	}
	return Stored{}, false, nil
}

// abandon marks failed every running job whose heartbeat is older than stale and that has had
// its maxAttempts runs: its runner stopped each time. It returns them (without bundles).
func (s *Store) abandon(ctx context.Context, stale time.Time, maxAttempts int) ([]Stored, error) {
	ctx = migrations.AcrossTenants(ctx) // the evidence job runner serves every organisation (SECURITY.md)
	var rows []Stored
	err := s.DB.WithContext(ctx).Omit("bundle").
		Where("status = ? AND heartbeat_us < ? AND attempts >= ?", JobRunning, stale.UnixMicro(), maxAttempts).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	var out []Stored
	for _, r := range rows {
		res := s.DB.WithContext(migrations.WithTenant(ctx, r.TenantID)).Model(&Stored{}).
			Where("id = ? AND tenant_id = ? AND status = ? AND heartbeat_us = ?", r.ID, r.TenantID, JobRunning, r.HeartbeatUs).
			Updates(map[string]any{"status": JobFailed, "failure": "interrupted", "stage": "failed"})
		if res.Error != nil {
			return out, res.Error
		}
		if res.RowsAffected == 1 {
			r.Status, r.Failure = JobFailed, "interrupted"
			out = append(out, r)
		}
	}
	return out, nil
}

// progress records a running job's stage and progress and renews its heartbeat. ErrNotFound
// means the job is no longer this runner's (it was taken over or is no longer running).
func (s *Store) progress(ctx context.Context, r Stored, stage string, pct int, now time.Time) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	res := s.DB.WithContext(ctx).Model(&Stored{}).
		Where("id = ? AND tenant_id = ? AND status = ? AND attempts = ?", r.ID, r.TenantID, JobRunning, r.Attempts).
		Updates(map[string]any{"stage": stage, "progress": min(max(pct, 0), 99), "heartbeat_us": now.UnixMicro()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// complete stores a running job's bundle and summary and marks it done, inside tx (with the
// audit record of the generation). ErrNotFound means the job was not this runner's any more.
func (s *Store) complete(ctx context.Context, tx *gorm.DB, r Stored) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	res := tx.WithContext(ctx).Model(&Stored{}).
		Where("id = ? AND tenant_id = ? AND status = ? AND attempts = ?", r.ID, r.TenantID, JobRunning, r.Attempts).
		Updates(map[string]any{"status": JobDone, "progress": 100, "stage": "done", "events": r.Events, "pass": r.Pass, "fail": r.Fail,
			"manual": r.Manual, "sha256": r.SHA256, "size": r.Size, "bundle": r.Bundle, "failure": ""})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// fail marks a running job failed with a reason (a kind, never content).
func (s *Store) fail(ctx context.Context, tx *gorm.DB, r Stored, reason string) error {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	res := tx.WithContext(ctx).Model(&Stored{}).
		Where("id = ? AND tenant_id = ? AND status = ? AND attempts = ?", r.ID, r.TenantID, JobRunning, r.Attempts).
		Updates(map[string]any{"status": JobFailed, "stage": "failed", "failure": reason})
	if res.Error != nil {
		return fmt.Errorf("evidence: mark the job failed: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// SweepLease names the six-year sweep's lease in job_leases: one node at a time sweeps.
const SweepLease = "evidence-sweep"

// Lease takes or renews the installation-wide lease name in job_leases for node until until;
// false means another node holds it.
func (s *Store) Lease(ctx context.Context, name, node string, now, until time.Time) (bool, error) {
	return s.lease(ctx, name, node, now, until)
}

// Unlease gives the lease name up.
func (s *Store) Unlease(ctx context.Context, name, node string) error {
	return s.unlease(ctx, name, node)
}

// lease takes or renews the installation-wide lease name in job_leases for node until until;
// false means another node holds it.
func (s *Store) lease(ctx context.Context, name, node string, now, until time.Time) (bool, error) {
	res := s.DB.WithContext(ctx).Exec("INSERT INTO job_leases (name, owner, until_us) VALUES (?, ?, ?) "+
		"ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_us = excluded.until_us "+
		"WHERE job_leases.owner = excluded.owner OR job_leases.until_us < ?",
		name, node, until.UnixMicro(), now.UnixMicro())
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// unlease gives the lease up, so another node may run the jobs at once.
func (s *Store) unlease(ctx context.Context, name, node string) error {
	return s.DB.WithContext(ctx).Exec("DELETE FROM job_leases WHERE name = ? AND owner = ?", name, node).Error
}

package auditlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// checkpointMark is what the sealer remembers of a tenant's latest checkpoint.
type checkpointMark struct {
	seq int64
	at  time.Time
}

// Checkpoint signs and stores a checkpoint at the tenant's current chain head, whether or not
// one is due, and returns it. It returns ErrEmptyChain when nothing is sealed yet.
func (l *Log) Checkpoint(ctx context.Context, tenant string) (audit.Checkpoint, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	seq, head, err := l.Head(ctx, tenant)
	if err != nil {
		return audit.Checkpoint{}, err
	}
	if seq == 0 {
		return audit.Checkpoint{}, ErrEmptyChain
	}
	return l.checkpointAt(ctx, tenant, seq, head)
}

// CheckpointDue signs a checkpoint for every chain whose head has moved past its latest
// checkpoint and whose latest checkpoint is CheckpointInterval old.
func (l *Log) CheckpointDue(ctx context.Context) error {
	ctx = migrations.AcrossTenants(ctx) // checkpoints span tenants, each chain in its own scope (SECURITY.md)
	rows, err := l.sql.QueryContext(ctx, "SELECT tenant_id, seq, hash FROM audit_chains WHERE seq > 0")
	if err != nil {
		return fmt.Errorf("%w: read chain heads: %w", audit.ErrSign, err)
	}
	type head struct {
		tenant string
		seq    int64
		hash   audit.Hash
	}
	var heads []head
	for rows.Next() {
		var (
			h   head
			raw []byte
		)
		if err := rows.Scan(&h.tenant, &h.seq, &raw); err != nil {
			_ = rows.Close()
			return fmt.Errorf("%w: read chain heads: %w", audit.ErrSign, err)
		}
		var ok bool
		if h.hash, ok = hashFromBytes(raw); ok {
			heads = append(heads, h)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("%w: read chain heads: %w", audit.ErrSign, err)
	}
	var errs []error
	for _, h := range heads {
		errs = append(errs, l.maybeCheckpoint(ctx, h.tenant, h.seq, h.hash))
	}
	return errors.Join(errs...)
}

// maybeCheckpoint signs a checkpoint at (seq, head) if one is due for the tenant.
func (l *Log) maybeCheckpoint(ctx context.Context, tenant string, seq int64, head audit.Hash) error {
	ctx = migrations.WithTenant(ctx, tenant)
	mark, err := l.lastMark(ctx, tenant)
	if err != nil {
		return err
	}
	now := l.nowUTC()
	due := seq-mark.seq >= l.checkpointEvery || (seq > mark.seq && now.Sub(mark.at) >= l.checkpointInterval)
	if !due {
		return nil
	}
	_, err = l.checkpointAt(ctx, tenant, seq, head)
	return err
}

func (l *Log) lastMark(ctx context.Context, tenant string) (checkpointMark, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	l.mu.Lock()
	m, ok := l.marks[tenant]
	l.mu.Unlock()
	if ok {
		return m, nil
	}
	var atUs int64
	err := l.sql.QueryRowContext(ctx, l.q.cpLast, tenant).Scan(&m.seq, &atUs)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// No checkpoint yet: the first one is due after CheckpointInterval from now, or
		// after CheckpointEvery events.
		m = checkpointMark{at: l.nowUTC()}
	case err != nil:
		return m, fmt.Errorf("%w: read last checkpoint: %w", audit.ErrSign, err)
	default:
		m.at = time.UnixMicro(atUs).UTC()
	}
	l.setMark(tenant, m)
	return m, nil
}

func (l *Log) setMark(tenant string, m checkpointMark) {
	l.mu.Lock()
	if old, ok := l.marks[tenant]; !ok || m.seq >= old.seq {
		l.marks[tenant] = m
	}
	l.mu.Unlock()
}

// checkpointAt signs and stores a checkpoint at (seq, head). When another node stored one at
// the same seq first, that one is returned.
func (l *Log) checkpointAt(ctx context.Context, tenant string, seq int64, head audit.Hash) (audit.Checkpoint, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	cp, err := audit.SignCheckpoint(ctx, l.signer, tenant, seq, head, l.nowUTC())
	if err != nil {
		return audit.Checkpoint{}, err
	}
	res, err := l.sql.ExecContext(ctx, l.q.cpInsert, cp.Tenant, cp.Seq, cp.Head[:], cp.Time.UnixMicro(), cp.KeyID, cp.Signature)
	if err != nil {
		return audit.Checkpoint{}, fmt.Errorf("%w: store checkpoint: %w", audit.ErrSign, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		existing, err := l.checkpointGet(ctx, tenant, seq)
		if err != nil {
			return audit.Checkpoint{}, err
		}
		cp = existing
	}
	if _, err := l.sql.ExecContext(ctx, l.q.chainCkpt, cp.Seq, tenant, cp.Seq); err != nil {
		return audit.Checkpoint{}, fmt.Errorf("%w: record checkpoint on chain head: %w", audit.ErrSign, err)
	}
	l.setMark(tenant, checkpointMark{seq: cp.Seq, at: cp.Time})
	return cp, nil
}

func (l *Log) checkpointGet(ctx context.Context, tenant string, seq int64) (audit.Checkpoint, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	rows, err := l.sql.QueryContext(ctx, l.q.cpGet, tenant, seq)
	if err != nil {
		return audit.Checkpoint{}, fmt.Errorf("read checkpoint: %w", err)
	}
	cps, err := scanCheckpoints(rows)
	if err != nil {
		return audit.Checkpoint{}, err
	}
	if len(cps) == 0 {
		return audit.Checkpoint{}, ErrNotFound
	}
	return cps[0], nil
}

// Checkpoints returns up to limit checkpoints of a tenant with afterSeq < seq, in seq order.
func (l *Log) Checkpoints(ctx context.Context, tenant string, afterSeq int64, limit int) ([]audit.Checkpoint, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	return l.checkpointsBetween(ctx, tenant, afterSeq, maxSeq, limit)
}

// RecentCheckpoints returns up to limit of a tenant's latest checkpoints, newest first. Their
// signatures are not checked here: the caller checks each under TrustedKeys.
func (l *Log) RecentCheckpoints(ctx context.Context, tenant string, limit int) ([]audit.Checkpoint, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := l.sql.QueryContext(ctx, l.q.cpBelow, tenant, int64(0), maxSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	return scanCheckpoints(rows)
}

const maxSeq = int64(1<<63 - 1)

func (l *Log) checkpointsBetween(ctx context.Context, tenant string, afterSeq, toSeq int64, limit int) ([]audit.Checkpoint, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	if limit <= 0 {
		limit = 1000
	}
	rows, err := l.sql.QueryContext(ctx, l.q.cpList, tenant, afterSeq, toSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	return scanCheckpoints(rows)
}

func scanCheckpoints(rows *sql.Rows) ([]audit.Checkpoint, error) {
	defer func() { _ = rows.Close() }()
	var out []audit.Checkpoint
	for rows.Next() {
		var (
			c    audit.Checkpoint
			raw  []byte
			atUs int64
		)
		if err := rows.Scan(&c.Tenant, &c.Seq, &raw, &atUs, &c.KeyID, &c.Signature); err != nil {
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
		c.Head, _ = hashFromBytes(raw) // a wrong-sized hash leaves a zero Head, which then fails verification
		c.Time = time.UnixMicro(atUs).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

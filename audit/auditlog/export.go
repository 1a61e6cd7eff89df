package auditlog

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// Export writes a bundle of a tenant's events with from ≤ time < to (zero times are
// unbounded) to w: a tar file holding the public keys, the checkpoints that cover the range
// (and the first one after it), the events as JSON lines, and a manifest of every file's
// SHA-256, signed (see audit.BundleWriter). audit.VerifyBundle checks it without a database.
// The range is widened to whole sequence numbers: the bundle holds every event from the first
// at or after from to the last before to, so it is contiguous even if the clocks of different
// nodes disagreed slightly. A range with no events gives a valid, empty bundle. The caller
// records audit.ActionAuditExport.
func (l *Log) Export(ctx context.Context, w io.Writer, tenant string, from, to time.Time) (audit.BundleInfo, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	first, last, err := l.seqRange(ctx, tenant, from, to)
	if err != nil {
		return audit.BundleInfo{}, err
	}
	return l.exportRange(ctx, w, tenant, first, last, from, to)
}

// seqRange maps a time range to the sequence numbers it spans (0, 0 when empty).
func (l *Log) seqRange(ctx context.Context, tenant string, from, to time.Time) (int64, int64, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	fromUs, toUs := int64(-1<<63), maxSeq
	if !from.IsZero() {
		fromUs = audit.CanonicalTime(from).UnixMicro()
	}
	if !to.IsZero() {
		toUs = audit.CanonicalTime(to).UnixMicro()
	}
	var lo, hi sql.NullInt64
	q := rebind(l.db.Dialect, "SELECT (SELECT MIN(seq) FROM audit_events WHERE tenant_id = ? AND at_us >= ?), (SELECT MAX(seq) FROM audit_events WHERE tenant_id = ? AND at_us < ?)")
	if err := l.sql.QueryRowContext(ctx, q, tenant, fromUs, tenant, toUs).Scan(&lo, &hi); err != nil {
		return 0, 0, fmt.Errorf("find export range: %w", err)
	}
	if !lo.Valid || !hi.Valid || lo.Int64 > hi.Int64 {
		return 0, 0, nil
	}
	return lo.Int64, hi.Int64, nil
}

// exportRange writes the bundle of events first..last (0, 0: empty) with the checkpoints at
// first-1..last and the first one after last.
func (l *Log) exportRange(ctx context.Context, out io.Writer, tenant string, first, last int64, from, to time.Time) (audit.BundleInfo, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	headSeq, headHash, err := l.Head(ctx, tenant)
	if err != nil {
		return audit.BundleInfo{}, err
	}
	bw, err := audit.NewBundleWriter(out, audit.BundleHeader{
		Tenant: tenant, From: from, To: to, Created: l.nowUTC(),
		ChainHead: audit.SeqHash{Seq: headSeq, Hash: headHash}, Keys: l.TrustedKeys(),
	}, l.signer)
	if err != nil {
		return audit.BundleInfo{}, err
	}
	if last > 0 {
		after := first - 2
		for {
			cps, err := l.checkpointsBetween(ctx, tenant, after, last, 1000)
			if err != nil {
				return audit.BundleInfo{}, err
			}
			for _, c := range cps {
				if err := bw.AddCheckpoint(c); err != nil {
					return audit.BundleInfo{}, err
				}
			}
			if len(cps) < 1000 {
				break
			}
			after = cps[len(cps)-1].Seq
		}
		next, err := l.checkpointsBetween(ctx, tenant, last, maxSeq, 1)
		if err != nil {
			return audit.BundleInfo{}, err
		}
		for _, c := range next {
			if err := bw.AddCheckpoint(c); err != nil {
				return audit.BundleInfo{}, err
			}
		}
		// The database may be damaged; the bundle holds what is stored, and
		// audit.VerifyBundle then reports the damage.
		it := l.iterate(tenant, first, last)
		for {
			cur, _, err := it.next(ctx)
			if err != nil {
				return audit.BundleInfo{}, err
			}
			if cur == nil {
				break
			}
			if err := bw.AddEntry(cur.Entry); err != nil {
				return audit.BundleInfo{}, err
			}
		}
	}
	return bw.Close(ctx)
}

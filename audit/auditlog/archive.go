package auditlog

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// ArchiveOptions are ArchiveBy's settings.
type ArchiveOptions struct {
	// Destinations names the configured forwarding destinations (their cursor names). One that
	// has no cursor for the tenant has received nothing, so it holds the archive back like one
	// whose cursor is behind: a destination down since it was configured must not let events
	// be deleted that it never received.
	Destinations []string
}

// ArchiveInfo describes what Archive removed.
type ArchiveInfo struct {
	audit.BundleInfo
	// Anchor is the signed checkpoint at LastSeq from which the remaining chain verifies.
	Anchor audit.Checkpoint `json:"anchor"`
}

// Archive moves a tenant's events older than before out of the database, keeping the rest
// of the chain verifiable. It refuses (ErrRetention) when before is inside the retention
// period, (ErrChainDamaged) when the chain does not verify, and (ErrNotForwarded) when a
// forwarding sink with a cursor for the tenant has not yet received the events (ArchiveBy also
// refuses for a configured destination without a cursor). Otherwise it:
//
//  1. takes the oldest run of events all older than before, ending at seq S;
//  2. signs an anchor checkpoint at S, unless one exists;
//  3. writes an export bundle of those events to w, and calls w.Sync() when w has it (an
//     *os.File), so the bundle is durable before anything is deleted;
//  4. in one transaction, deletes the events up to S and appends an audit.ActionAuditArchive event
//     naming the range and the bundle's SHA-256.
//
// Verify then starts the chain at S+1, anchored by the checkpoint at S. With nothing old
// enough, Archive writes nothing and returns a zero ArchiveInfo. The archive event names this
// node as its actor; ArchiveBy names another (the operator at the command line).
//
// If the error comes after the bundle was written (info.SHA256 is set), whether the events were
// removed is uncertain only when the commit itself failed: keep the bundle and run Verify.
func (l *Log) Archive(ctx context.Context, tenant string, before time.Time, w io.Writer) (ArchiveInfo, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	return l.ArchiveBy(ctx, audit.Actor{ID: l.node, Kind: audit.ActorSystem}, tenant, before, w, ArchiveOptions{})
}

// ArchiveBy is Archive with by recorded as the actor of the archive event, refusing also while
// any of opts.Destinations has not received the events (a missing cursor counts as none).
func (l *Log) ArchiveBy(ctx context.Context, by audit.Actor, tenant string, before time.Time, w io.Writer, opts ArchiveOptions) (ArchiveInfo, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	var info ArchiveInfo
	if cutoff := l.ArchiveCutoff(); before.After(cutoff) {
		return info, fmt.Errorf("%w: events stay online for %d days, so only events before %s may be archived",
			ErrRetention, int64(l.retention/(24*time.Hour)), cutoff.Format(time.RFC3339))
	}
	first, last, err := l.archiveRange(ctx, tenant, before)
	if err != nil || last == 0 {
		return info, err
	}
	rep, err := l.Verify(ctx, tenant, 0)
	if err != nil {
		return info, err
	}
	if !rep.OK() {
		return info, fmt.Errorf("%w: %s", ErrChainDamaged, rep.Damage)
	}
	if err := l.checkForwarded(ctx, tenant, last, opts.Destinations); err != nil {
		return info, err
	}
	anchor, err := l.checkpointGet(ctx, tenant, last)
	if err != nil {
		e, gerr := l.Get(ctx, tenant, last)
		if gerr != nil {
			return info, gerr
		}
		if anchor, err = l.checkpointAt(ctx, tenant, last, e.Hash); err != nil {
			return info, err
		}
	}
	info.Anchor = anchor
	if info.BundleInfo, err = l.exportRange(ctx, w, tenant, first, last, time.Time{}, before); err != nil {
		return info, err
	}
	if s, ok := w.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			return info, fmt.Errorf("sync archive bundle: %w", err)
		}
	}
	if err := l.removeArchived(ctx, by, tenant, info); err != nil {
		return info, err
	}
	l.kickSealer()
	return info, nil
}

// checkForwarded returns ErrNotForwarded unless every forwarding destination, those with a
// cursor for the tenant and the configured ones (without a cursor: nothing received), has
// received the tenant's events up to last.
func (l *Log) checkForwarded(ctx context.Context, tenant string, last int64, configured []string) error {
	ctx = migrations.WithTenant(ctx, tenant)
	rows, err := l.sql.QueryContext(ctx, rebind(l.db.Dialect, "SELECT sink, event_seq FROM audit_forward_cursors WHERE tenant_id = ?"), tenant)
	if err != nil {
		return fmt.Errorf("read forwarding cursors: %w", err)
	}
	defer func() { _ = rows.Close() }()
	got := map[string]int64{}
	for rows.Next() {
		var (
			sink string
			seq  int64
		)
		if err := rows.Scan(&sink, &seq); err != nil {
			return fmt.Errorf("read forwarding cursors: %w", err)
		}
		got[sink] = seq
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read forwarding cursors: %w", err)
	}
	for _, name := range configured {
		if _, ok := got[name]; !ok {
			got[name] = 0
		}
	}
	names := make([]string, 0, len(got))
	for name := range got {
		names = append(names, name)
	}
	sort.Strings(names)
	var (
		sink   string
		behind int64
	)
	for _, name := range names {
		if seq := got[name]; seq < last && (sink == "" || seq < behind) {
			sink, behind = name, seq
		}
	}
	if sink != "" {
		return fmt.Errorf("%w: %s has received events up to %d, the archive would remove up to %d", ErrNotForwarded, sink, behind, last)
	}
	return nil
}

// archiveRange returns the oldest run of events that are all older than before.
func (l *Log) archiveRange(ctx context.Context, tenant string, before time.Time) (int64, int64, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	var lo, hi, young sql.NullInt64
	q := rebind(l.db.Dialect, "SELECT (SELECT MIN(seq) FROM audit_events WHERE tenant_id = ?), (SELECT MAX(seq) FROM audit_events WHERE tenant_id = ?), "+
		"(SELECT MIN(seq) FROM audit_events WHERE tenant_id = ? AND at_us >= ?)")
	if err := l.sql.QueryRowContext(ctx, q, tenant, tenant, tenant, audit.CanonicalTime(before).UnixMicro()).Scan(&lo, &hi, &young); err != nil {
		return 0, 0, fmt.Errorf("find archive range: %w", err)
	}
	if !lo.Valid {
		return 0, 0, nil
	}
	last := hi.Int64
	if young.Valid {
		last = young.Int64 - 1
	}
	if last < lo.Int64 {
		return 0, 0, nil
	}
	return lo.Int64, last, nil
}

// ArchiveCutoff is the latest time Archive accepts: events at or after it are inside the
// retention period.
func (l *Log) ArchiveCutoff() time.Time { return l.nowUTC().Add(-l.retention) }

func (l *Log) removeArchived(ctx context.Context, by audit.Actor, tenant string, info ArchiveInfo) (err error) {
	ctx = migrations.WithTenant(ctx, tenant)
	tx, err := l.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	r := func(q string) string { return rebind(l.db.Dialect, q) }
	if _, err = tx.ExecContext(ctx, r("INSERT INTO audit_archive_permits (tenant_id, upto_seq) VALUES (?, ?)"), tenant, info.LastSeq); err != nil {
		return fmt.Errorf("archive: another archive of this tenant is running: %w", err)
	}
	res, err := tx.ExecContext(ctx, r("DELETE FROM audit_events WHERE tenant_id = ? AND seq >= ? AND seq <= ?"), tenant, info.FirstSeq, info.LastSeq)
	if err != nil {
		return fmt.Errorf("archive: delete events: %w", err)
	}
	if n, rerr := res.RowsAffected(); rerr == nil && n != info.Events {
		return fmt.Errorf("archive: deleted %d events, the bundle holds %d", n, info.Events)
	}
	if _, err = tx.ExecContext(ctx, r("DELETE FROM audit_archive_permits WHERE tenant_id = ?"), tenant); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	ev := audit.Event{
		Tenant: tenant, Actor: by, Origin: audit.Origin{Node: l.node},
		Action: audit.ActionAuditArchive, Target: audit.Target{Kind: "audit_chain", ID: tenant}, Outcome: audit.Success,
		Details: map[string]string{
			"first_seq":     strconv.FormatInt(info.FirstSeq, 10),
			"last_seq":      strconv.FormatInt(info.LastSeq, 10),
			"events":        strconv.FormatInt(info.Events, 10),
			"bundle_sha256": info.SHA256,
			"anchor_hash":   info.Anchor.Head.String(),
		},
	}
	if err = l.insertOutbox(ctx, tx, []audit.Event{ev}); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("archive: commit: %w", err)
	}
	return nil
}

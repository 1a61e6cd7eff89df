package forward

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/migrations"
	"gorm.io/gorm"
)

// cursor is how far one sink got in one tenant's chain.
type cursor struct {
	event      int64
	checkpoint int64
}

// cursorStore keeps cursors and sink leases in the database.
type cursorStore struct {
	db *migrations.DB
}

// all returns the sink's cursors by tenant.
func (s cursorStore) all(ctx context.Context, sink string) (map[string]cursor, error) {
	var rows []struct {
		TenantID      string
		EventSeq      int64
		CheckpointSeq int64
	}
	ctx = migrations.AcrossTenants(ctx) // forwarding spans tenants (SECURITY.md)
	err := s.db.Gorm.WithContext(ctx).Raw("SELECT tenant_id, event_seq, checkpoint_seq FROM audit_forward_cursors WHERE sink = ?", sink).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("%w: %s: read cursors: %w", ErrSink, sink, err)
	}
	out := make(map[string]cursor, len(rows))
	for _, r := range rows {
		out[r.TenantID] = cursor{event: r.EventSeq, checkpoint: r.CheckpointSeq}
	}
	return out, nil
}

// set moves the sink's cursor for tenant forward to c; it never moves back, so a node that
// lost its lease mid-pass cannot undo the progress of the node that took over.
func (s cursorStore) set(ctx context.Context, sink, tenant string, c cursor, now time.Time) error {
	ctx = migrations.WithTenant(ctx, tenant)
	err := s.db.Gorm.WithContext(ctx).Exec("INSERT INTO audit_forward_cursors (sink, tenant_id, event_seq, checkpoint_seq, updated_us) VALUES (?, ?, ?, ?, ?) "+
		"ON CONFLICT (sink, tenant_id) DO UPDATE SET "+
		"event_seq = CASE WHEN excluded.event_seq > audit_forward_cursors.event_seq THEN excluded.event_seq ELSE audit_forward_cursors.event_seq END, "+
		"checkpoint_seq = CASE WHEN excluded.checkpoint_seq > audit_forward_cursors.checkpoint_seq THEN excluded.checkpoint_seq ELSE audit_forward_cursors.checkpoint_seq END, "+
		"updated_us = excluded.updated_us",
		sink, tenant, c.event, c.checkpoint, now.UnixMicro()).Error
	if err != nil {
		return fmt.Errorf("%w: %s: save cursor: %w", ErrSink, sink, err)
	}
	return nil
}

// lease takes or renews the sink's lease for node; false means another node holds it.
func (s cursorStore) lease(ctx context.Context, sink, node string, now, until time.Time) (bool, error) {
	res := s.db.Gorm.WithContext(ctx).Exec("INSERT INTO audit_forward_leases (sink, owner, until_us) VALUES (?, ?, ?) "+
		"ON CONFLICT (sink) DO UPDATE SET owner = excluded.owner, until_us = excluded.until_us "+
		"WHERE audit_forward_leases.owner = excluded.owner OR audit_forward_leases.until_us < ?",
		sink, node, until.UnixMicro(), now.UnixMicro())
	if res.Error != nil {
		return false, fmt.Errorf("%w: %s: take lease: %w", ErrSink, sink, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ForgetDestination deletes, inside the caller's transaction tx, the cursors (every tenant) and
// the lease of a destination that is no longer configured, so its cursors stop holding back
// `parley audit archive`. It returns how many tenants' cursors it deleted.
func ForgetDestination(ctx context.Context, tx *gorm.DB, sink string) (int64, error) {
	ctx = migrations.AcrossTenants(ctx) // a destination's cursors span tenants (SECURITY.md)
	res := tx.WithContext(ctx).Exec("DELETE FROM audit_forward_cursors WHERE sink = ?", sink)
	if res.Error != nil {
		return 0, fmt.Errorf("forget %s: delete cursors: %w", sink, res.Error)
	}
	if err := tx.WithContext(ctx).Exec("DELETE FROM audit_forward_leases WHERE sink = ?", sink).Error; err != nil {
		return 0, fmt.Errorf("forget %s: delete lease: %w", sink, err)
	}
	return res.RowsAffected, nil
}

// Position is how far forwarding to one destination got in one tenant's chain.
type Position struct {
	// Event and Checkpoint are the last event and checkpoint sequence numbers delivered.
	Event      int64
	Checkpoint int64
	// Updated is when the destination last accepted a batch of the tenant's events.
	Updated time.Time
}

// Positions returns, by destination name, how far forwarding got in one tenant's chain: what the
// console's integrity page shows as each destination's last success and lag. A destination that
// never received the tenant's events has no entry.
func Positions(ctx context.Context, db *gorm.DB, tenant string) (map[string]Position, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	var rows []struct {
		Sink          string
		EventSeq      int64
		CheckpointSeq int64
		UpdatedUs     int64
	}
	err := db.WithContext(ctx).Raw("SELECT sink, event_seq, checkpoint_seq, updated_us FROM audit_forward_cursors WHERE tenant_id = ?", tenant).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("forward: read positions: %w", err)
	}
	out := make(map[string]Position, len(rows))
	for _, r := range rows {
		out[r.Sink] = Position{Event: r.EventSeq, Checkpoint: r.CheckpointSeq, Updated: time.UnixMicro(r.UpdatedUs).UTC()}
	}
	return out, nil
}

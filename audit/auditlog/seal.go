package auditlog

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// Seal chains every pending event of every tenant: each gets the next sequence number of its
// tenant's chain and its hash, in one transaction per SealBatch events, and is moved from the
// outbox to audit_events. It returns how many events it sealed. Several nodes may seal at
// once: the tenant's chain-head row is locked (SELECT … FOR UPDATE on PostgreSQL; SQLite's
// IMMEDIATE transactions serialise writers), so sequence numbers stay gapless.
//
// After sealing it signs the checkpoints that are due. A checkpoint failure does not undo the
// sealing; it is returned (wrapping audit.ErrSign) after all tenants are sealed.
func (l *Log) Seal(ctx context.Context) (int, error) {
	ctx = migrations.AcrossTenants(ctx) // sealing spans tenants, each chain in its own scope (SECURITY.md)
	l.sealMu.Lock()
	defer l.sealMu.Unlock()
	tenants, err := l.pendingTenants(ctx)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSeal, err)
	}
	total := 0
	var cpErrs []error
	for _, t := range tenants {
		for {
			n, head, headHash, err := l.sealBatchRetry(ctx, t)
			if err != nil {
				return total, fmt.Errorf("%w: tenant %q: %w", ErrSeal, t, err)
			}
			total += n
			if n > 0 {
				if err := l.maybeCheckpoint(ctx, t, head, headHash); err != nil {
					cpErrs = append(cpErrs, err)
				}
			}
			if n < l.batchSize {
				break
			}
		}
	}
	return total, errors.Join(cpErrs...)
}

func (l *Log) pendingTenants(ctx context.Context) ([]string, error) {
	ctx = migrations.AcrossTenants(ctx) // sealing spans tenants (SECURITY.md)
	rows, err := l.sql.QueryContext(ctx, l.q.pendingTenan)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// sealBatchRetry is sealBatch, tried again a few times when the database reports a transient
// lock conflict: the failed attempt was rolled back whole, so a retry seals the same events.
func (l *Log) sealBatchRetry(ctx context.Context, tenant string) (n int, head int64, headHash audit.Hash, err error) {
	ctx = migrations.WithTenant(ctx, tenant)
	wait := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		n, head, headHash, err = l.sealBatch(ctx, tenant)
		if err == nil || attempt == 5 || !migrations.IsBusy(err) {
			return n, head, headHash, err
		}
		select {
		case <-ctx.Done():
			return 0, 0, audit.Hash{}, err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// sealBatch chains up to Config.SealBatch pending events of one tenant and returns how many, and the
// new head.
func (l *Log) sealBatch(ctx context.Context, tenant string) (n int, head int64, headHash audit.Hash, err error) {
	ctx = migrations.WithTenant(ctx, tenant)
	tx, err := l.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, audit.Hash{}, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var raw []byte
	err = tx.QueryRowContext(ctx, l.q.chainLock, tenant).Scan(&head, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		var zero audit.Hash
		if _, err = tx.ExecContext(ctx, l.q.chainInit, tenant, zero[:], l.nowMicros()); err != nil {
			return 0, 0, audit.Hash{}, fmt.Errorf("create chain head: %w", err)
		}
		err = tx.QueryRowContext(ctx, l.q.chainLock, tenant).Scan(&head, &raw)
	}
	if err != nil {
		return 0, 0, audit.Hash{}, fmt.Errorf("lock chain head: %w", err)
	}
	prev, ok := hashFromBytes(raw)
	if !ok {
		return 0, 0, audit.Hash{}, errors.New("chain head hash is not 32 bytes")
	}
	entries, details, err := l.takeOutbox(ctx, tx, tenant)
	if err != nil || len(entries) == 0 {
		if err == nil {
			err = tx.Rollback()
		}
		return 0, head, prev, err
	}
	enc := l.hasher()
	for i := range entries {
		e := &entries[i]
		e.Seq = head + int64(i) + 1
		e.PrevHash = prev
		e.Hash = enc.Chain(&e.Event, prev)
		prev = e.Hash
	}
	l.release(enc)
	if err = l.insertEntries(ctx, tx, entries, details); err != nil {
		return 0, 0, audit.Hash{}, fmt.Errorf("insert events: %w", err)
	}
	last := entries[len(entries)-1]
	if _, err = tx.ExecContext(ctx, l.q.chainUpdate, last.Seq, last.Hash[:], l.nowMicros(), tenant); err != nil {
		return 0, 0, audit.Hash{}, fmt.Errorf("advance chain head: %w", err)
	}
	if err = tx.Commit(); err != nil {
		return 0, 0, audit.Hash{}, fmt.Errorf("commit: %w", err)
	}
	return len(entries), last.Seq, last.Hash, nil
}

// takeOutbox removes the oldest pending events of a tenant from the outbox and returns them
// in append order. details holds each event's stored details text, written unchanged to
// audit_events. The caller's transaction makes the move atomic.
func (l *Log) takeOutbox(ctx context.Context, tx *sql.Tx, tenant string) ([]audit.Entry, []string, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	rows, err := tx.QueryContext(ctx, l.q.outboxTake, tenant, l.batchSize)
	if err != nil {
		return nil, nil, fmt.Errorf("read outbox: %w", err)
	}
	defer func() { _ = rows.Close() }()
	type pending struct {
		id      int64
		e       audit.Entry
		details string
	}
	var ps []pending
	for rows.Next() {
		var (
			p                     pending
			atUs                  int64
			kind, action, outcome string
		)
		e := &p.e
		if err := rows.Scan(&p.id, &e.Tenant, &atUs, &e.Actor.ID, &e.Actor.Role, &kind, &e.Origin.IP, &e.Origin.UserAgent,
			&e.Origin.Node, &action, &e.Target.Kind, &e.Target.ID, &outcome, &e.Reason, &e.RequestID, &p.details); err != nil {
			return nil, nil, fmt.Errorf("read outbox: %w", err)
		}
		e.Time = time.UnixMicro(atUs).UTC()
		e.Actor.Kind, e.Action, e.Outcome = audit.ActorKind(kind), audit.Action(action), audit.Outcome(outcome)
		m, err := decodeDetails(p.details)
		if err != nil {
			// A pending row that cannot be read must not block the chain: seal it with a
			// marker so the damage is visible in the log itself.
			m = map[string]string{"outbox_error": "details unreadable when sealed"}
			p.details, _ = encodeDetails(m)
			l.log.ErrorContext(ctx, "audit outbox row with unreadable details sealed with a marker", "tenant", tenant, "outbox_id", p.id)
		}
		e.Details = m
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read outbox: %w", err)
	}
	slices.SortFunc(ps, func(a, b pending) int { return cmp.Compare(a.id, b.id) })
	entries := make([]audit.Entry, len(ps))
	details := make([]string, len(ps))
	for i := range ps {
		entries[i], details[i] = ps[i].e, ps[i].details
	}
	return entries, details, nil
}

func (l *Log) insertEntries(ctx context.Context, tx *sql.Tx, entries []audit.Entry, details []string) error {
	if l.q.eventsArray != "" {
		_, err := tx.ExecContext(ctx, l.q.eventsArray, entryArrays(entries, details)...)
		return err
	}
	size := l.q.eventsChunk
	args := make([]any, 0, eventColsN*min(len(entries), size))
	for start := 0; start < len(entries); start += size {
		end := min(start+size, len(entries))
		args = args[:0]
		for i := start; i < end; i++ {
			e := &entries[i]
			args = append(args, e.Tenant, e.Seq, e.Time.UnixMicro(), e.Actor.ID, e.Actor.Role, string(e.Actor.Kind),
				e.Origin.IP, e.Origin.UserAgent, e.Origin.Node, string(e.Action), e.Target.Kind, e.Target.ID,
				string(e.Outcome), e.Reason, e.RequestID, details[i], e.PrevHash[:], e.Hash[:])
		}
		if _, err := tx.ExecContext(ctx, l.q.eventsInsert(end-start), args...); err != nil {
			return err
		}
	}
	return nil
}

// entryArrays turns entries into one array per audit_events column, for the unnest insert.
func entryArrays(entries []audit.Entry, details []string) []any {
	n := len(entries)
	var (
		tenant, actorID, role, kind, ip, ua, node  = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		action, tkind, tid, outcome, reason, reqID = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seq, at                                    = make([]int64, n), make([]int64, n)
		prev, hash                                 = make([][]byte, n), make([][]byte, n)
	)
	for i := range entries {
		e := &entries[i]
		tenant[i], seq[i], at[i], actorID[i], role[i], kind[i] = e.Tenant, e.Seq, e.Time.UnixMicro(), e.Actor.ID, e.Actor.Role, string(e.Actor.Kind)
		ip[i], ua[i], node[i], action[i] = e.Origin.IP, e.Origin.UserAgent, e.Origin.Node, string(e.Action)
		tkind[i], tid[i], outcome[i], reason[i], reqID[i] = e.Target.Kind, e.Target.ID, string(e.Outcome), e.Reason, e.RequestID
		prev[i], hash[i] = e.PrevHash[:], e.Hash[:]
	}
	return []any{tenant, seq, at, actorID, role, kind, ip, ua, node, action, tkind, tid, outcome, reason, reqID, details, prev, hash}
}

// kickDelay is how long Run waits after a Kick before sealing, to gather a batch.
const kickDelay = 10 * time.Millisecond

// Run records audit.start in the system chain, then seals pending events every SealInterval
// (or sooner after Record or Kick) and signs time-due checkpoints, until ctx ends; it then
// records audit.stop and seals once more. It returns an error only when audit.start cannot be
// recorded: a node whose audit log cannot be written must not serve.
func (l *Log) Run(ctx context.Context) error {
	if err := l.lifecycle(ctx, audit.ActionAuditStart); err != nil {
		return err
	}
	sealT := time.NewTicker(l.sealInterval)
	defer sealT.Stop()
	cpT := time.NewTicker(max(l.checkpointInterval/4, l.sealInterval))
	defer cpT.Stop()
	for {
		select {
		case <-ctx.Done():
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := l.lifecycle(stopCtx, audit.ActionAuditStop); err != nil {
				l.log.ErrorContext(stopCtx, "audit stop could not be recorded", "err", err)
			}
			l.sealOnce(stopCtx)
			return nil
		case <-l.kick:
			// Let more events arrive, so one sealing transaction takes many of them.
			t := time.NewTimer(min(kickDelay, l.sealInterval))
			select {
			case <-ctx.Done():
				t.Stop()
				continue
			case <-t.C:
			}
			select {
			case <-l.kick:
			default:
			}
			l.sealOnce(ctx)
		case <-sealT.C:
			l.sealOnce(ctx)
		case <-cpT.C:
			if err := l.CheckpointDue(ctx); err != nil && ctx.Err() == nil {
				l.raise(ctx, audit.Alert{Kind: audit.AlertCheckpointFailed, Message: "checkpoint could not be signed or stored: " + err.Error()})
			} else if err == nil {
				l.clear(ctx, audit.AlertCheckpointFailed, "")
			}
		}
	}
}

func (l *Log) sealOnce(ctx context.Context) {
	_, err := l.Seal(ctx)
	switch {
	case err == nil:
		l.clear(ctx, audit.AlertSealFailed, "")
		l.clear(ctx, audit.AlertCheckpointFailed, "")
	case errors.Is(err, ErrSeal):
		if ctx.Err() == nil {
			l.raise(ctx, audit.Alert{Kind: audit.AlertSealFailed, Message: "pending audit events could not be chained: " + err.Error()})
		}
	default:
		if ctx.Err() == nil {
			l.raise(ctx, audit.Alert{Kind: audit.AlertCheckpointFailed, Message: "checkpoint could not be signed or stored: " + err.Error()})
		}
	}
}

func (l *Log) lifecycle(ctx context.Context, a audit.Action) error {
	return l.Record(ctx, audit.Event{
		Tenant:  audit.SystemTenant,
		Actor:   audit.Actor{ID: l.node, Kind: audit.ActorSystem},
		Origin:  audit.Origin{Node: l.node},
		Action:  a,
		Target:  audit.Target{Kind: "audit_log", ID: l.node},
		Outcome: audit.Success,
	})
}

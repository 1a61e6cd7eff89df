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

// Head returns the sequence number and hash of the tenant's latest sealed event; 0 and the
// zero audit.Hash for a chain with no events.
func (l *Log) Head(ctx context.Context, tenant string) (int64, audit.Hash, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	var (
		seq int64
		raw []byte
	)
	err := l.sql.QueryRowContext(ctx, l.q.chainHead, tenant).Scan(&seq, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, audit.Hash{}, nil
	}
	if err != nil {
		return 0, audit.Hash{}, fmt.Errorf("read chain head: %w", err)
	}
	h, _ := hashFromBytes(raw)
	return seq, h, nil
}

// Tenants lists every tenant with a chain head or a checkpoint, audit.SystemTenant included.
func (l *Log) Tenants(ctx context.Context) ([]string, error) {
	ctx = migrations.AcrossTenants(ctx) // verification and monitoring span tenants (SECURITY.md)
	rows, err := l.sql.QueryContext(ctx, l.q.tenants)
	if err != nil {
		return nil, fmt.Errorf("list audit chains: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list audit chains: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ChainHead is the state of one tenant's chain.
type ChainHead struct {
	Tenant string
	// Seq and Hash are the latest sealed event's.
	Seq  int64
	Hash audit.Hash
	// CheckpointSeq is the seq of the latest checkpoint (0: none yet).
	CheckpointSeq int64
}

// Chains returns every chain's head, ordered by tenant. It reads one small row per tenant,
// so forwarders can poll it cheaply.
func (l *Log) Chains(ctx context.Context) ([]ChainHead, error) {
	ctx = migrations.AcrossTenants(ctx) // verification and monitoring span tenants (SECURITY.md)
	rows, err := l.sql.QueryContext(ctx, l.q.chainList)
	if err != nil {
		return nil, fmt.Errorf("list audit chains: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []ChainHead
	for rows.Next() {
		var (
			c   ChainHead
			raw []byte
		)
		if err := rows.Scan(&c.Tenant, &c.Seq, &raw, &c.CheckpointSeq); err != nil {
			return nil, fmt.Errorf("list audit chains: %w", err)
		}
		c.Hash, _ = hashFromBytes(raw)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Pending returns how many appended events wait to be sealed, across all tenants.
func (l *Log) Pending(ctx context.Context) (int64, error) {
	ctx = migrations.AcrossTenants(ctx) // verification and monitoring span tenants (SECURITY.md)
	var n int64
	if err := l.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_outbox").Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending audit events: %w", err)
	}
	return n, nil
}

// Entries returns up to limit sealed entries of a tenant with seq > afterSeq, in seq order.
// The forwarder reads the chain with it.
func (l *Log) Entries(ctx context.Context, tenant string, afterSeq int64, limit int) ([]audit.Entry, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	page, err := l.entriesPage(ctx, tenant, afterSeq, maxSeq, limit)
	if err != nil {
		return nil, err
	}
	out := make([]audit.Entry, len(page))
	for i := range page {
		out[i] = page[i].Entry
	}
	return out, nil
}

// Get returns one sealed entry, or ErrNotFound.
func (l *Log) Get(ctx context.Context, tenant string, seq int64) (audit.Entry, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	rows, err := l.sql.QueryContext(ctx, l.q.entryGet, tenant, seq)
	if err != nil {
		return audit.Entry{}, fmt.Errorf("read audit event: %w", err)
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return audit.Entry{}, fmt.Errorf("read audit event: %w", err)
		}
		return audit.Entry{}, ErrNotFound
	}
	var e storedEntry
	if err := scanEntry(rows, &e); err != nil {
		return audit.Entry{}, err
	}
	return e.Entry, nil
}

// storedEntry is an entry read from the database; bad says why the stored row cannot be
// decoded (then it is damage, not an operational error).
type storedEntry struct {
	audit.Entry
	bad string
	sum audit.Hash // Hasher.Sum of the entry, when read by an iterator with a pool
}

func (l *Log) entriesPage(ctx context.Context, tenant string, afterSeq, toSeq int64, limit int) ([]storedEntry, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	if limit <= 0 {
		limit = 1000
	}
	rows, err := l.sql.QueryContext(ctx, l.q.entriesPage, tenant, afterSeq, toSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := make([]storedEntry, 0, limit)
	for rows.Next() {
		out = append(out, storedEntry{})
		if err := scanEntry(rows, &out[len(out)-1]); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit events: %w", err)
	}
	return out, nil
}

// scanEntry reads one row of entryCols.
func scanEntry(rows *sql.Rows, out *storedEntry) error {
	var (
		atUs                     int64
		kind, action, outcome, d string
		prev, h                  []byte
	)
	e := &out.Entry
	if err := rows.Scan(&e.Tenant, &e.Seq, &atUs, &e.Actor.ID, &e.Actor.Role, &kind, &e.Origin.IP, &e.Origin.UserAgent,
		&e.Origin.Node, &action, &e.Target.Kind, &e.Target.ID, &outcome, &e.Reason, &e.RequestID, &d, &prev, &h); err != nil {
		return fmt.Errorf("read audit events: %w", err)
	}
	e.Time = time.UnixMicro(atUs).UTC()
	e.Actor.Kind, e.Action, e.Outcome = audit.ActorKind(kind), audit.Action(action), audit.Outcome(outcome)
	m, err := decodeDetails(d)
	if err != nil {
		out.bad = "stored details are not a JSON object of strings"
	}
	e.Details = m
	var ok bool
	if e.PrevHash, ok = hashFromBytes(prev); !ok {
		out.bad = "stored prev_hash is not 32 bytes"
	}
	if e.Hash, ok = hashFromBytes(h); !ok {
		out.bad = "stored hash is not 32 bytes"
	}
	return nil
}

// entryIter walks a tenant's entries in seq order, a page at a time, with one entry of
// look-ahead. With a pool, it recomputes each page's entry hashes (storedEntry.sum) on it as
// the page is read.
type entryIter struct {
	l      *Log
	tenant string
	after  int64
	to     int64
	pool   *audit.HashPool
	page   []storedEntry
	i      int
	done   bool
}

func (l *Log) iterate(tenant string, fromSeq, toSeq int64) *entryIter {
	return &entryIter{l: l, tenant: tenant, after: fromSeq - 1, to: toSeq}
}

const iterPage = 2000

// fill makes sure at least n entries are buffered unless the range is exhausted.
func (it *entryIter) fill(ctx context.Context, n int) error {
	for len(it.page)-it.i < n && !it.done {
		next, err := it.l.entriesPage(ctx, it.tenant, it.after, it.to, iterPage)
		if err != nil {
			return err
		}
		if len(next) < iterPage {
			it.done = true
		}
		if len(next) > 0 {
			it.after = next[len(next)-1].Seq
		}
		if it.pool != nil {
			it.pool.Each(len(next), func(h *audit.Hasher, i int) {
				if next[i].bad == "" {
					next[i].sum = h.Sum(&next[i].Entry)
				}
			})
		}
		it.page = append(it.page[it.i:], next...)
		it.i = 0
	}
	return nil
}

// next returns the next entry and the one after it (nil at the end).
func (it *entryIter) next(ctx context.Context) (cur, ahead *storedEntry, err error) {
	if err := it.fill(ctx, 2); err != nil {
		return nil, nil, err
	}
	if it.i >= len(it.page) {
		return nil, nil, nil
	}
	cur = &it.page[it.i]
	if it.i+1 < len(it.page) {
		ahead = &it.page[it.i+1]
	}
	it.i++
	return cur, ahead, nil
}

// hashFromBytes copies a stored hash column; ok is false when it is not 32 bytes long.
func hashFromBytes(b []byte) (audit.Hash, bool) {
	var h audit.Hash
	if len(b) != len(h) {
		return h, false
	}
	copy(h[:], b)
	return h, true
}

package auditlog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// Defaults of Config.
const (
	DefaultSealInterval       = 250 * time.Millisecond
	DefaultSealBatch          = 1000
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = time.Minute
	// MinRetention is PCI DSS 10.5.1's twelve months online; Config.Retention may only be
	// longer.
	MinRetention = 365 * 24 * time.Hour
)

// Config assembles a Log.
type Config struct {
	// DB is the database holding the audit tables (migration 00003).
	DB *migrations.DB
	// Signer signs checkpoints and export manifests. Required.
	Signer audit.Signer
	// TrustedKeys are further keys whose checkpoints verify (keys used before a rotation).
	// The Signer's own key is always trusted.
	TrustedKeys []audit.PublicKey
	// Masker masks PANs in free text; audit.DigitRunMasker when nil.
	Masker audit.Masker
	// Alerter receives sealing and checkpoint failures; they are only logged when nil.
	Alerter audit.Alerter
	// Logger defaults to a discarding logger.
	Logger *slog.Logger
	// Now is the clock that stamps events and checkpoints; time.Now when nil.
	Now func() time.Time
	// Node names this Parley node in audit.Origin.Node when a caller leaves it empty.
	Node string
	// SealInterval is how often Run chains pending events (DefaultSealInterval).
	SealInterval time.Duration
	// SealBatch is how many events one sealing transaction chains (DefaultSealBatch).
	SealBatch int
	// CheckpointEvery signs a checkpoint once this many events followed the last one
	// (DefaultCheckpointEvery).
	CheckpointEvery int64
	// CheckpointInterval signs a checkpoint when events are newer than the last checkpoint
	// and it is this old (DefaultCheckpointInterval).
	CheckpointInterval time.Duration
	// Retention is how long events stay online before Archive may remove them; at least
	// MinRetention (the default).
	Retention time.Duration
}

// Log is a tenant-partitioned, hash-chained, append-only audit log. It is safe for concurrent
// use, and several nodes may run one each against the same database.
type Log struct {
	db      *migrations.DB
	sql     *sql.DB
	q       queries
	signer  audit.Signer
	keys    audit.KeyRing
	masker  audit.Masker
	alerter audit.Alerter
	log     *slog.Logger
	now     func() time.Time
	node    string

	sealInterval       time.Duration
	batchSize          int
	checkpointEvery    int64
	checkpointInterval time.Duration
	retention          time.Duration
	// verifyWorkers and verifyChunk size Verify's audit.HashPool (0: its defaults, one
	// worker per core); tests set them to compare the sequential and the parallel walk.
	verifyWorkers int
	verifyChunk   int

	kick     chan struct{}
	encoders sync.Pool
	sealMu   sync.Mutex

	mu       sync.Mutex
	marks    map[string]checkpointMark
	alerting map[audit.AlertKind]bool
}

// New checks cfg and returns a Log. It does not start background work; see Run.
func New(cfg Config) (*Log, error) {
	if cfg.DB == nil || cfg.DB.Gorm == nil {
		return nil, fmt.Errorf("%w: no database", ErrConfig)
	}
	if cfg.Signer == nil || len(cfg.Signer.PublicKey()) != ed25519.PublicKeySize || cfg.Signer.KeyID() == "" {
		return nil, fmt.Errorf("%w: a checkpoint signer with an Ed25519 key and a key id is required", ErrConfig)
	}
	if cfg.Retention == 0 {
		cfg.Retention = MinRetention
	}
	if cfg.Retention < MinRetention {
		return nil, fmt.Errorf("%w: retention %s is shorter than the 12 months PCI DSS 10.5.1 requires", ErrConfig, cfg.Retention)
	}
	sqlDB, err := cfg.DB.SQL()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	l := &Log{
		db: cfg.DB, sql: sqlDB, q: newQueries(cfg.DB.Dialect),
		signer: cfg.Signer, masker: cfg.Masker, alerter: cfg.Alerter, log: cfg.Logger, now: cfg.Now, node: cfg.Node,
		sealInterval: cfg.SealInterval, batchSize: cfg.SealBatch,
		checkpointEvery: cfg.CheckpointEvery, checkpointInterval: cfg.CheckpointInterval,
		retention: cfg.Retention,
		kick:      make(chan struct{}, 1),
		marks:     map[string]checkpointMark{},
		alerting:  map[audit.AlertKind]bool{},
	}
	keys := append([]audit.PublicKey{{ID: cfg.Signer.KeyID(), Key: cfg.Signer.PublicKey()}}, cfg.TrustedKeys...)
	l.keys = audit.NewKeyRing(keys...)
	if l.masker == nil {
		l.masker = audit.DigitRunMasker{}
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.node == "" {
		l.node = "parley"
	}
	if l.sealInterval <= 0 {
		l.sealInterval = DefaultSealInterval
	}
	if l.batchSize <= 0 {
		l.batchSize = DefaultSealBatch
	}
	if l.checkpointEvery <= 0 {
		l.checkpointEvery = DefaultCheckpointEvery
	}
	if l.checkpointInterval <= 0 {
		l.checkpointInterval = DefaultCheckpointInterval
	}
	l.encoders.New = func() any { return audit.NewHasher() }
	return l, nil
}

// TrustedKeys returns the keys this log accepts checkpoint signatures from, the signer's first.
func (l *Log) TrustedKeys() []audit.PublicKey {
	out := []audit.PublicKey{{ID: l.signer.KeyID(), Key: l.signer.PublicKey()}}
	for id, k := range l.keys {
		if id != l.signer.KeyID() {
			out = append(out, audit.PublicKey{ID: id, Key: k})
		}
	}
	return out
}

// Retention returns how long events stay online.
func (l *Log) Retention() time.Duration { return l.retention }

func (l *Log) hasher() *audit.Hasher   { return l.encoders.Get().(*audit.Hasher) }
func (l *Log) release(e *audit.Hasher) { l.encoders.Put(e) }
func (l *Log) nowUTC() time.Time       { return audit.CanonicalTime(l.now()) }
func (l *Log) nowMicros() int64        { return l.nowUTC().UnixMicro() }
func (l *Log) kickSealer() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}
func (l *Log) prepare(ev audit.Event) (audit.Event, error) {
	out, err := audit.Normalize(ev, l.masker, l.node)
	if err != nil {
		return audit.Event{}, err
	}
	out.Time = l.nowUTC()
	return out, nil
}

// Append writes ev inside the caller's transaction tx, so the event is stored if and only if
// the change it records commits. It returns an error wrapping ErrAppend, audit.ErrInvalidEvent,
// audit.ErrUnknownAction or audit.ErrSensitiveDetail; the caller must then roll back and fail the action
// (fail closed). The event is chained (given its seq and hash) by the sealer shortly after
// the transaction commits; see Run and Seal.
func (l *Log) Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error {
	return l.AppendBatch(ctx, tx, []audit.Event{ev})
}

// AppendBatch is Append for several events, written with few multi-row statements.
func (l *Log) AppendBatch(ctx context.Context, tx *gorm.DB, evs []audit.Event) error {
	if tx == nil || tx.Statement == nil || tx.Statement.ConnPool == nil {
		return ErrNoTransaction
	}
	if tx.Error != nil {
		return fmt.Errorf("%w: transaction already failed: %w", ErrAppend, tx.Error)
	}
	return l.insertOutbox(ctx, tx.Statement.ConnPool, evs)
}

// Record writes ev in a transaction of its own, for events that accompany no other write
// (a search, a view, a failed sign-in). Like Append, an error means the action must fail.
func (l *Log) Record(ctx context.Context, ev audit.Event) error {
	if err := l.insertOutbox(ctx, l.sql, []audit.Event{ev}); err != nil {
		return err
	}
	l.kickSealer()
	return nil
}

// Kick asks Run to seal soon; callers may use it after committing a transaction that
// appended events, to shorten the time they stay unchained.
func (l *Log) Kick() { l.kickSealer() }

// execer is what both the caller's transaction and the connection pool offer.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

const outboxCols = 15

func (l *Log) insertOutbox(ctx context.Context, ex execer, evs []audit.Event) error {
	if len(evs) == 0 {
		return nil
	}
	ctx = eventScope(ctx, evs)
	prepared := make([]audit.Event, len(evs))
	details := make([]string, len(evs))
	for i, ev := range evs {
		e, err := l.prepare(ev)
		if err != nil {
			return err
		}
		if details[i], err = encodeDetails(e.Details); err != nil {
			return fmt.Errorf("%w: %w", ErrAppend, err)
		}
		prepared[i] = e
	}
	if l.q.outboxArray != "" && len(prepared) > 1 {
		if _, err := ex.ExecContext(ctx, l.q.outboxArray, outboxArrays(prepared, details)...); err != nil {
			return fmt.Errorf("%w: %w", ErrAppend, err)
		}
		return nil
	}
	size := l.q.outboxChunk
	args := make([]any, 0, outboxCols*min(len(prepared), size))
	for start := 0; start < len(prepared); start += size {
		end := min(start+size, len(prepared))
		args = args[:0]
		for i := start; i < end; i++ {
			e := &prepared[i]
			args = append(args, e.Tenant, e.Time.UnixMicro(), e.Actor.ID, e.Actor.Role, string(e.Actor.Kind),
				e.Origin.IP, e.Origin.UserAgent, e.Origin.Node, string(e.Action), e.Target.Kind, e.Target.ID,
				string(e.Outcome), e.Reason, e.RequestID, details[i])
		}
		if _, err := ex.ExecContext(ctx, l.q.outboxInsert(end-start), args...); err != nil {
			return fmt.Errorf("%w: %w", ErrAppend, err)
		}
	}
	return nil
}

// outboxArrays turns events into one array per outbox column, for the unnest insert.
// eventScope returns ctx scoped to the tenant of the events, whose chain they join: for an
// installation event (audit.SystemTenant) during a tenant's request too. A batch of several
// tenants' events is written across tenants (SECURITY.md).
func eventScope(ctx context.Context, evs []audit.Event) context.Context {
	for _, ev := range evs[1:] {
		if ev.Tenant != evs[0].Tenant {
			return migrations.AcrossTenants(ctx)
		}
	}
	return migrations.AsTenant(ctx, evs[0].Tenant)
}

func outboxArrays(evs []audit.Event, details []string) []any {
	n := len(evs)
	var (
		tenant, actorID, role, kind, ip, ua, node  = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		action, tkind, tid, outcome, reason, reqID = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		at                                         = make([]int64, n)
	)
	for i := range evs {
		e := &evs[i]
		tenant[i], at[i], actorID[i], role[i], kind[i] = e.Tenant, e.Time.UnixMicro(), e.Actor.ID, e.Actor.Role, string(e.Actor.Kind)
		ip[i], ua[i], node[i], action[i] = e.Origin.IP, e.Origin.UserAgent, e.Origin.Node, string(e.Action)
		tkind[i], tid[i], outcome[i], reason[i], reqID[i] = e.Target.Kind, e.Target.ID, string(e.Outcome), e.Reason, e.RequestID
	}
	return []any{tenant, at, actorID, role, kind, ip, ua, node, action, tkind, tid, outcome, reason, reqID, details}
}

// encodeDetails stores details as a JSON object with sorted keys and no HTML escaping, so the
// keyword search sees the text as written.
func encodeDetails(d map[string]string) (string, error) {
	if len(d) == 0 {
		return "{}", nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// decodeDetails reads a stored details object; an empty object decodes to nil.
func decodeDetails(s string) (map[string]string, error) {
	if s == "{}" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("details are not an object")
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// raise sends an alert once per failure streak; clear ends the streak.
func (l *Log) raise(ctx context.Context, a audit.Alert) {
	l.log.ErrorContext(ctx, "audit control failure", "kind", string(a.Kind), "tenant", a.Tenant, "seq", a.Seq, "message", a.Message)
	l.mu.Lock()
	key := a.Kind + audit.AlertKind("|"+a.Tenant)
	already := l.alerting[key]
	l.alerting[key] = true
	l.mu.Unlock()
	if !already && l.alerter != nil {
		a.At = l.nowUTC()
		l.alerter.Alert(ctx, a)
	}
}

func (l *Log) clear(ctx context.Context, kind audit.AlertKind, tenant string) {
	ctx = migrations.WithTenant(ctx, tenant)
	l.mu.Lock()
	key := kind + audit.AlertKind("|"+tenant)
	was := l.alerting[key]
	delete(l.alerting, key)
	l.mu.Unlock()
	if was && l.alerter != nil {
		l.alerter.Alert(ctx, audit.Alert{Kind: kind, Tenant: tenant, Cleared: true, Message: "resolved", At: l.nowUTC()})
	}
}

// placeholders returns "(?, ?, …)" groups for n rows of cols columns.
func placeholders(rows, cols int) string {
	var b strings.Builder
	b.Grow(rows * (cols*3 + 3))
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
	return b.String()
}

// rebind turns "?" placeholders into "$1", "$2", … for PostgreSQL. Parley's audit SQL never
// holds a literal question mark.
func rebind(d migrations.Dialect, q string) string {
	if d != migrations.Postgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Signer returns the checkpoint signer, which also signs the bundles made from the log (audit
// exports, evidence reports), so the one published key verifies them all.
func (l *Log) Signer() audit.Signer { return l.signer }

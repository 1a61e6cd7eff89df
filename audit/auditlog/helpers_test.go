package auditlog

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// testClock is a settable clock; each reading advances it by step so events get distinct
// times.
type testClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC), step: time.Millisecond}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// keySigner is an in-memory audit.Signer.
type keySigner struct{ priv ed25519.PrivateKey }

var _ audit.Signer = keySigner{}

func (k keySigner) KeyID() string { return audit.KeyIDFor(k.PublicKey()) }
func (k keySigner) PublicKey() ed25519.PublicKey {
	pub, _ := k.priv.Public().(ed25519.PublicKey)
	return pub
}
func (k keySigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	return ed25519.Sign(k.priv, msg), nil
}

// seedSigner returns a signer over a key derived from seed, without touching the disk.
func seedSigner(seed byte) keySigner {
	var s [ed25519.SeedSize]byte
	for i := range s {
		s[i] = seed
	}
	return keySigner{priv: ed25519.NewKeyFromSeed(s[:])}
}

type testLogOption func(*Config)

func newTestLog(t testing.TB, db *migrations.DB, clock *testClock, opts ...testLogOption) *Log {
	t.Helper()
	cfg := Config{DB: db, Signer: seedSigner(1), Now: clock.Now, Node: "node-a", CheckpointEvery: 10, CheckpointInterval: time.Hour}
	for _, o := range opts {
		o(&cfg)
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return l
}

// sampleEvent returns a valid event of tenant t, numbered i for recognisability.
func sampleEvent(tenant string, i int) audit.Event {
	return audit.Event{
		Tenant:    tenant,
		Actor:     audit.Actor{ID: fmt.Sprintf("user-%d", i%7), Role: "admin", Kind: audit.ActorUser},
		Origin:    audit.Origin{IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (test)"},
		Action:    audit.ActionUserUpdate,
		Target:    audit.Target{Kind: "user", ID: fmt.Sprintf("target-%d", i)},
		Outcome:   audit.Success,
		RequestID: fmt.Sprintf("req-%d", i),
		Details:   map[string]string{"field": "display_name", "n": fmt.Sprint(i)},
	}
}

// fill records n events for tenant and seals them.
func fill(t testing.TB, l *Log, tenant string, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if err := l.Record(ctx, sampleEvent(tenant, i)); err != nil {
			t.Fatalf("Record %d: %v", i, err)
		}
	}
	seal(t, l)
}

func seal(t testing.TB, l *Log) {
	t.Helper()
	if _, err := l.Seal(context.Background()); err != nil {
		t.Fatalf("Seal: %v", err)
	}
}

// mustVerify verifies and fails the test on a database error.
func mustVerify(t testing.TB, l *Log, tenant string, from int64) Report {
	t.Helper()
	r, err := l.Verify(context.Background(), tenant, from)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

// exec runs raw SQL as an attacker with database access would.
func exec(t testing.TB, db *migrations.DB, q string, args ...any) {
	t.Helper()
	if err := migratetest.Beneath(t, db).Gorm.Exec(q, args...).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// dropGuards removes the append-only triggers, as an attacker with DDL rights would.
func dropGuards(t testing.TB, db *migrations.DB) {
	t.Helper()
	switch db.Dialect {
	case migrations.Postgres:
		exec(t, db, "DROP TRIGGER audit_events_append_only ON audit_events")
		exec(t, db, "DROP TRIGGER audit_checkpoints_append_only ON audit_checkpoints")
	default:
		exec(t, db, "DROP TRIGGER audit_events_no_update")
		exec(t, db, "DROP TRIGGER audit_events_guard_delete")
		exec(t, db, "DROP TRIGGER audit_checkpoints_no_update")
		exec(t, db, "DROP TRIGGER audit_checkpoints_no_delete")
	}
}

func freshSQLite(t *testing.T) *migrations.DB {
	t.Helper()
	return migratetest.Open(t, migrations.SQLite)
}

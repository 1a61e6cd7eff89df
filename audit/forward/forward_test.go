package forward

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func newLog(t *testing.T, db *migrations.DB) *auditlog.Log {
	t.Helper()
	s, err := audit.LoadOrCreateFileSigner(filepath.Join(t.TempDir(), audit.DefaultKeyFile), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	l, err := auditlog.New(auditlog.Config{DB: db, Signer: s, Node: "node-a", CheckpointEvery: 4, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func record(t *testing.T, l *auditlog.Log, tenant string, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		err := l.Record(ctx, audit.Event{Tenant: tenant, Actor: audit.Actor{ID: "u1", Kind: audit.ActorUser},
			Action: audit.ActionTranscriptView, Target: audit.Target{Kind: "conversation", ID: "c1"}, Outcome: audit.Success})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}
}

// readFile returns the (tenant, type, seq) of every line of a file sink.
func readFile(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct {
			Type       string            `json:"type"`
			Event      *audit.Entry      `json:"event"`
			Checkpoint *audit.Checkpoint `json:"checkpoint"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		switch {
		case l.Event != nil:
			if !l.Event.Verify() {
				t.Errorf("forwarded event %d does not verify", l.Event.Seq)
			}
			out = append(out, l.Event.Tenant+":e"+itoa(l.Event.Seq))
		case l.Checkpoint != nil:
			out = append(out, l.Checkpoint.Tenant+":c"+itoa(l.Checkpoint.Seq))
		}
	}
	return out
}

func itoa(n int64) string { return string(rune('0'+n/10)) + string(rune('0'+n%10)) }

type alerts struct {
	mu  sync.Mutex
	got []audit.Alert
}

func (a *alerts) Alert(_ context.Context, al audit.Alert) {
	a.mu.Lock()
	a.got = append(a.got, al)
	a.mu.Unlock()
}

// flaky fails its first n sends.
type flaky struct {
	Sink
	n int
}

func (f *flaky) Send(ctx context.Context, b Batch) error {
	if f.n > 0 {
		f.n--
		return errors.New("collector unavailable")
	}
	return f.Sink.Send(ctx, b)
}

func TestForwarderResumesFromItsCursor(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		l := newLog(t, db)
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		newFwd := func(s Sink) *Forwarder {
			f, err := New(Config{DB: db, Source: l, Recorder: l, Sinks: []Sink{s}, Node: "node-a", BatchSize: 3})
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		sink, err := NewFileSink("siem-file", path)
		if err != nil {
			t.Fatal(err)
		}
		record(t, l, "t1", 5)
		record(t, l, "t2", 2)
		if err := newFwd(sink).Flush(ctx); err != nil {
			t.Fatal(err)
		}
		// One sealing pass made events 1..5 and a checkpoint at 5; batches hold 3 events.
		want := []string{"t1:e01", "t1:e02", "t1:e03", "t1:e04", "t1:e05", "t1:c05", "t2:e01", "t2:e02"}
		if got := readFile(t, path); !equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		_ = sink.Close()

		// A new forwarder (a restart) continues after the cursor: nothing twice, nothing skipped.
		record(t, l, "t1", 4)
		sink2, _ := NewFileSink("siem-file", path)
		if err := newFwd(sink2).Flush(ctx); err != nil {
			t.Fatal(err)
		}
		want = append(want, "t1:e06", "t1:e07", "t1:e08", "t1:e09", "t1:c09")
		if got := readFile(t, path); !equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		_ = sink2.Close()
	})
}

func TestForwarderAlertsAndRetries(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		l := newLog(t, db)
		record(t, l, "t1", 3)
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		fs, _ := NewFileSink("siem", path)
		al := &alerts{}
		f, err := New(Config{DB: db, Source: l, Recorder: l, Sinks: []Sink{&flaky{Sink: fs, n: 3}}, Alerter: al,
			Interval: 5 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Flush(ctx); !errors.Is(err, ErrSink) {
			t.Fatalf("got %v, want ErrSink", err)
		}
		if st := f.Status(); st[0].Healthy || st[0].Failures != 1 {
			t.Errorf("got %+v, want an unhealthy sink", st)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- f.Run(runCtx) }()
		deadline := time.Now().Add(10 * time.Second)
		for (len(readFileIfExists(t, path)) < 3 || !f.Status()[0].Healthy) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, path); !equal(got, []string{"t1:e01", "t1:e02", "t1:e03"}) {
			t.Errorf("got %v, want events 1..3 once each", got)
		}
		al.mu.Lock()
		got := append([]audit.Alert(nil), al.got...)
		al.mu.Unlock()
		if len(got) != 2 || got[0].Kind != audit.AlertForwardFailed || got[0].Cleared || !got[1].Cleared || got[0].Sink != "siem" {
			t.Errorf("got alerts %+v, want one forward_failed alert and its clearing", got)
		}
		if _, err := l.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		p, err := l.Search(ctx, auditlog.Query{Tenant: audit.SystemTenant, Actions: []audit.Action{audit.ActionAuditForwardFail}})
		if err != nil || len(p.Entries) != 1 || p.Entries[0].Target.ID != "siem" {
			t.Errorf("got %+v (%v), want one recorded forwarding failure", p.Entries, err)
		}
	})
}

func TestForwarderLeaseKeepsOneNodePerSink(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		l := newLog(t, db)
		record(t, l, "t1", 2)
		dir := t.TempDir()
		now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		mk := func(node, file string) *Forwarder {
			s, _ := NewFileSink("shared", filepath.Join(dir, file))
			f, err := New(Config{DB: db, Source: l, Sinks: []Sink{s}, Node: node, Now: clock, LeaseTTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		a, b := mk("node-a", "a.jsonl"), mk("node-b", "b.jsonl")
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		record(t, l, "t1", 1)
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := readFileIfExists(t, filepath.Join(dir, "b.jsonl")); len(got) != 0 {
			t.Errorf("got %v from node-b while node-a holds the lease, want nothing", got)
		}
		now = now.Add(2 * time.Minute) // node-a's lease lapses
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := readFileIfExists(t, filepath.Join(dir, "b.jsonl")); !equal(got, []string{"t1:e03"}) {
			t.Errorf("got %v from node-b after the lease lapsed, want only event 3", got)
		}
	})
}

func readFileIfExists(t *testing.T, path string) []string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	return readFile(t, path)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestForwarderToSyslogEndToEnd(t *testing.T) {
	db := migratetest.Open(t, migrations.SQLite)
	l := newLog(t, db)
	c := newCollector(t)
	f, err := New(Config{DB: db, Source: l, Sinks: []Sink{c.sink(t)}, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	record(t, l, "t1", 4) // 4 events and the checkpoint at 4
	frames := c.waitFrames(t, 5)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(frames) != 5 {
		t.Errorf("got %d frames, want 5", len(frames))
	}
}

// TestCursorOnlyMovesForward: a node that lost its lease mid-pass and saves an older cursor
// does not undo the progress of the node that took over.
func TestCursorOnlyMovesForward(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		s := cursorStore{db: db}
		now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		for _, tc := range []struct {
			name      string
			set, want cursor
		}{
			{"first", cursor{event: 5, checkpoint: 5}, cursor{event: 5, checkpoint: 5}},
			{"forward", cursor{event: 9, checkpoint: 9}, cursor{event: 9, checkpoint: 9}},
			{"backward", cursor{event: 4, checkpoint: 3}, cursor{event: 9, checkpoint: 9}},
			{"events forward, checkpoint behind", cursor{event: 12, checkpoint: 5}, cursor{event: 12, checkpoint: 9}},
		} {
			if err := s.set(ctx, "siem", "t1", tc.set, now); err != nil {
				t.Fatal(err)
			}
			all, err := s.all(ctx, "siem")
			if err != nil {
				t.Fatal(err)
			}
			if got := all["t1"]; got != tc.want {
				t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
			}
		}
	})
}

// handover lets another node take the sink over while the first is sending its first batch.
type handover struct {
	Sink
	sends    int
	takeOver func()
}

func (h *handover) Send(ctx context.Context, b Batch) error {
	if err := h.Sink.Send(ctx, b); err != nil {
		return err
	}
	if h.sends++; h.sends == 1 {
		h.takeOver()
	}
	return nil
}

// TestForwarderStopsWhenItsLeaseIsTaken: a pass longer than the lease ends at the next batch
// once another node holds the sink, instead of forwarding beside it from a stale cursor.
func TestForwarderStopsWhenItsLeaseIsTaken(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		l := newLog(t, db)
		record(t, l, "t1", 6)
		dir := t.TempDir()
		now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		mk := func(node string, s Sink) *Forwarder {
			f, err := New(Config{DB: db, Source: l, Sinks: []Sink{s}, Node: node, Now: clock, LeaseTTL: time.Minute, BatchSize: 2})
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		sb, _ := NewFileSink("shared", filepath.Join(dir, "b.jsonl"))
		b := mk("node-b", sb)
		sa, _ := NewFileSink("shared", filepath.Join(dir, "a.jsonl"))
		a := mk("node-a", &handover{Sink: sa, takeOver: func() {
			now = now.Add(2 * time.Minute) // node-a's first batch outlives its lease
			if err := b.Flush(ctx); err != nil {
				t.Errorf("node-b: %v", err)
			}
		}})
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := readFileIfExists(t, filepath.Join(dir, "a.jsonl")), []string{"t1:e01", "t1:e02"}; !equal(got, want) {
			t.Errorf("got %v from node-a, want only its first batch %v", got, want)
		}
		if got, want := readFileIfExists(t, filepath.Join(dir, "b.jsonl")), []string{"t1:e01", "t1:e02", "t1:e03", "t1:e04", "t1:e05", "t1:e06", "t1:c06"}; !equal(got, want) {
			t.Errorf("got %v from node-b, want %v", got, want)
		}
		cur, err := cursorStore{db: db}.all(ctx, "shared")
		if err != nil {
			t.Fatal(err)
		}
		if got := cur["t1"]; got.event != 6 || got.checkpoint != 6 {
			t.Errorf("got cursor %+v, want node-b's 6/6", got)
		}
	})
}

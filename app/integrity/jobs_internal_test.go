package integrity

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// fakeChain is a chain whose verification reports the progress and the finding it is given,
// and can be held until released.
type fakeChain struct {
	report  auditlog.Report
	steps   []int64
	total   int64
	release chan struct{}
	fail    error

	mu     sync.Mutex
	events []audit.Event
}

func (f *fakeChain) Seal(context.Context) (int, error) { return 0, nil }
func (f *fakeChain) VerifyProgress(ctx context.Context, _ string, _ int64, p auditlog.Progress) (auditlog.Report, error) {
	for _, n := range f.steps {
		p(n, f.total)
	}
	if f.release != nil {
		<-f.release
	}
	return f.report, f.fail
}
func (f *fakeChain) RecentCheckpoints(context.Context, string, int) ([]audit.Checkpoint, error) {
	return nil, nil
}
func (f *fakeChain) TrustedKeys() []audit.PublicKey { return nil }
func (f *fakeChain) Head(context.Context, string) (int64, audit.Hash, error) {
	return 0, audit.Hash{}, nil
}
func (f *fakeChain) Get(context.Context, string, int64) (audit.Entry, error) {
	return audit.Entry{}, auditlog.ErrNotFound
}
func (f *fakeChain) Record(_ context.Context, ev audit.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
	return nil
}

func (f *fakeChain) recorded() []audit.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]audit.Event(nil), f.events...)
}

func newTenant(t *testing.T, db *migrations.DB, id string) {
	t.Helper()
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	if err := migratetest.Beneath(t, db).Gorm.Exec(`INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, id, id, id, now, now).Error; err != nil {
		t.Fatal(err)
	}
}

// TestVerificationJobs: a verification reports its progress and its finding (the first broken
// link of a damaged chain), is recorded in the audit log, runs once per organisation at a time,
// and a job whose node stopped is reported and recorded as interrupted, never left running.
func TestVerificationJobs(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		newTenant(t, db, "org-a")
		newTenant(t, db, "org-b")
		now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		ctx := context.Background()
		by := Requester{TenantID: "org-a", UserID: "auditor-1"}

		t.Run("damaged chain", func(t *testing.T) {
			damage := &audit.Damage{Kind: audit.DamageModified, Seq: 7, Detail: "event 7 was changed"}
			chain := &fakeChain{steps: []int64{0, 2000, 4000}, total: 5000,
				report: auditlog.Report{Tenant: "org-a", FromSeq: 1, ToSeq: 6, Events: 6, Head: 5000, Damage: damage}}
			s := &Service{Chain: chain, DB: db.Gorm, Now: clock, Node: "n1"}
			j, err := s.Start(ctx, by)
			if err != nil {
				t.Fatal(err)
			}
			s.Wait()
			got, err := s.Job(ctx, "org-a", j.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != StatusDone || got.Result == nil || got.Result.Intact || got.Result.Damage == nil || got.Result.Damage.Seq != 7 {
				t.Fatalf("job = %+v (result %+v), want done with the first broken link at 7", got, got.Result)
			}
			if got.Checked != 6 || got.Total != 5000 {
				t.Errorf("progress = %d of %d, want 6 of 5000 (checked stops at the damage)", got.Checked, got.Total)
			}
			evs := chain.recorded()
			if len(evs) != 1 || evs[0].Action != audit.ActionAuditVerify || evs[0].Outcome != audit.Failure || evs[0].Reason != "modified" ||
				evs[0].Details["first_bad_seq"] != "7" || evs[0].Details["job"] != j.ID {
				t.Errorf("audit records = %+v", evs)
			}
			if _, err := s.Job(ctx, "org-b", j.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("another organisation reads the job: %v", err)
			}
		})

		t.Run("one at a time", func(t *testing.T) {
			chain := &fakeChain{steps: []int64{0, 2000}, total: 4000, release: make(chan struct{}),
				report: auditlog.Report{Tenant: "org-a", FromSeq: 1, ToSeq: 4000, Events: 4000, Head: 4000}}
			s := &Service{Chain: chain, DB: db.Gorm, Now: clock, Node: "n1"}
			first, err := s.Start(ctx, by)
			if err != nil {
				t.Fatal(err)
			}
			second, err := s.Start(ctx, Requester{TenantID: "org-a", UserID: "auditor-2"})
			if err != nil {
				t.Fatal(err)
			}
			if second.ID != first.ID {
				t.Errorf("a second verification started (%s) while %s ran", second.ID, first.ID)
			}
			other, err := s.Start(ctx, Requester{TenantID: "org-b", UserID: "auditor-3"})
			if err != nil || other.ID == first.ID {
				t.Fatalf("another organisation's verification: %+v %v", other, err)
			}
			close(chain.release)
			s.Wait()
			got, _ := s.Job(ctx, "org-a", first.ID)
			if got.Status != StatusDone || !got.Result.Intact || got.Checked != 4000 || got.Percent != 100 {
				t.Errorf("job = %+v", got)
			}
			if n := len(chain.recorded()); n != 2 {
				t.Errorf("%d audit records, want 2 (one per verification)", n)
			}
		})

		t.Run("interrupted", func(t *testing.T) {
			newTenant(t, db, "org-c")
			st := store{db: db.Gorm}
			stale := jobRow{ID: "0123456789abcdef0123456789abcdef", TenantID: "org-c", Status: StatusRunning, StartedBy: "auditor-9", Node: "gone",
				StartedUs: now.Add(-time.Hour).UnixMicro(), UpdatedUs: now.Add(-10 * time.Minute).UnixMicro(), Checked: 10, Total: 90}
			if err := st.insert(ctx, stale); err != nil {
				t.Fatal(err)
			}
			chain := &fakeChain{report: auditlog.Report{Tenant: "org-c", Events: 90, Head: 90}}
			s := &Service{Chain: chain, DB: db.Gorm, Now: clock, Node: "n2"}
			if got, _ := s.Job(ctx, "org-c", stale.ID); got.Status != StatusFailed || got.Failure != "interrupted" {
				t.Errorf("a job with a stale heartbeat reads %s %q, want failed interrupted", got.Status, got.Failure)
			}
			j, err := s.Start(ctx, Requester{TenantID: "org-c", UserID: "auditor-9"})
			if err != nil || j.ID == stale.ID {
				t.Fatalf("start after a stopped node: %+v %v", j, err)
			}
			s.Wait()
			row, err := st.get(ctx, "org-c", stale.ID)
			if err != nil || row.Status != StatusFailed || row.Failure != "interrupted" || row.FinishedUs == 0 {
				t.Errorf("the stopped job is stored as %+v %v", row, err)
			}
			evs := chain.recorded()
			if len(evs) != 2 || evs[0].Reason != "interrupted" || evs[0].Outcome != audit.Failure || evs[1].Outcome != audit.Success {
				t.Errorf("audit records = %+v", evs)
			}
		})

		t.Run("verification error", func(t *testing.T) {
			newTenant(t, db, "org-d")
			chain := &fakeChain{fail: errors.New("database gone")}
			s := &Service{Chain: chain, DB: db.Gorm, Now: clock, Node: "n1"}
			j, err := s.Start(ctx, Requester{TenantID: "org-d", UserID: "auditor-4"})
			if err != nil {
				t.Fatal(err)
			}
			s.Wait()
			got, _ := s.Job(ctx, "org-d", j.ID)
			if got.Status != StatusFailed || got.Failure != "error" || got.Result != nil {
				t.Errorf("job = %+v", got)
			}
		})
	})
}

func TestLabelShowsNoServerPath(t *testing.T) {
	for _, tc := range []struct{ name, kind, label string }{
		{"syslog:logs.example.test:6514", "syslog", "syslog collector logs.example.test:6514"},
		{"file:/var/lib/parley/secret-dir/audit.jsonl", "file", "JSON-lines file audit.jsonl"},
		{`file:C:\parley\audit.jsonl`, "file", "JSON-lines file audit.jsonl"},
		{"kafka:x", "other", "destination"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if k, l := label(tc.name); k != tc.kind || l != tc.label {
				t.Errorf("label(%q) = %q %q, want %q %q", tc.name, k, l, tc.kind, tc.label)
			}
		})
	}
}

// FuzzLabel: whatever a destination is called, its label names a file by its last element only
// (no server folder) and is never empty.
func FuzzLabel(f *testing.F) {
	for _, s := range []string{"syslog:logs.example.test:6514", "file:/var/lib/parley/audit.jsonl", `file:C:\a\b.jsonl`, "file:", "", ":", "file:/a/b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		kind, text := label(name)
		if text == "" || kind == "" {
			t.Fatalf("label(%q) = %q %q", name, kind, text)
		}
		if kind == "file" && strings.ContainsAny(strings.TrimPrefix(text, "JSON-lines file "), `/\`) && text != "JSON-lines file /" {
			t.Fatalf("label(%q) = %q shows a folder", name, text)
		}
	})
}

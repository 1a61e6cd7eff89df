package evidencehttp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/evidencehttp"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestEvidenceJobs: a report is generated as a job. Through the API it is asked for and polled
// until its download link appears; while another node holds the job lease, the page answers
// without waiting for it and shows it queued with its progress (its bundle not yet
// downloadable), and once the lease is free the runner completes it; a job whose node stopped
// is taken again, and after its last attempt marked failed and recorded, never left running.
func TestEvidenceJobs(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, map[string]string{"PARLEY_DATA_DIR": t.TempDir()})
		org, _ := a.CreateUser("Acme Bank", "owner@acme.test", testPassword, "owner", false)
		_, auditorUser := a.CreateUser("Acme Bank", "auditor@acme.test", testPassword, "auditor", false)
		auditor := a.Client("198.51.100.7:1000").SignIn(org.Slug, "auditor@acme.test", testPassword)
		ctx := context.Background()
		store := &evidence.Store{DB: db.Gorm}

		// The API: ask, then poll.
		for _, bad := range []struct{ body, field string }{
			{`{"framework":"sox","from":"2025-01-01","to":"2025-12-31"}`, "framework"},
			{`{"framework":"pci","from":"4111111111111111","to":"2025-12-31"}`, "from"},
			{`{"framework":"pci","from":"2025-01-01","to":"2024-12-31"}`, "to"},
			{`{"framework":"pci","from":"2025-01-01"}`, "to"},
		} {
			rec := auditor.Do(http.MethodPost, "/api/v1/evidence/reports", bad.body)
			if code, field := accounttest.ErrorOf(t, rec); rec.Code != http.StatusBadRequest || code != "invalid_request" || field != bad.field {
				t.Errorf("%s: %d %s on %q, want 400 invalid_request on %q", bad.body, rec.Code, code, field, bad.field)
			}
			if strings.Contains(rec.Body.String(), "4111111111111111") {
				t.Errorf("the error repeats the card number")
			}
		}
		rec := auditor.Do(http.MethodPost, "/api/v1/evidence/reports", `{"framework":"hipaa","from":"2025-01-01","to":"2025-12-31"}`)
		if rec.Code != http.StatusCreated && rec.Code != http.StatusAccepted {
			t.Fatalf("ask for a report: %d %s", rec.Code, rec.Body)
		}
		asked := accounttest.Decode[evidencehttp.ReportBody](t, rec)
		a.EvidenceJobs.Wait()
		got := accounttest.Decode[evidencehttp.ReportBody](t, auditor.Do(http.MethodGet, "/api/v1/evidence/reports/"+asked.ID, ""))
		if got.Status != evidence.JobDone || got.Progress != 100 || got.Download != "/evidence/"+asked.ID+"/download" || got.SHA256 == "" ||
			got.From != "2025-01-01" || got.To != "2025-12-31" {
			t.Fatalf("report = %+v", got)
		}
		if rec := auditor.Do(http.MethodGet, got.Download, ""); rec.Code != http.StatusOK {
			t.Errorf("download = %d", rec.Code)
		}
		list := accounttest.Decode[evidencehttp.ListBody](t, auditor.Do(http.MethodGet, "/api/v1/evidence/reports", ""))
		if len(list.Reports) != 1 || list.Reports[0].ID != asked.ID {
			t.Errorf("list = %+v", list)
		}
		gen := a.AuditEvents(org.ID, audit.ActionEvidenceGenerate)
		if len(gen) != 1 || gen[0].Actor.ID != auditorUser.ID || gen[0].Details["job"] != "background" || gen[0].Outcome != audit.Success {
			t.Errorf("evidence.generate records = %+v", gen)
		}

		// Another node holds the lease: the page does not wait for the report.
		beneath := migratetest.Beneath(t, db).Gorm
		until := a.Now().Add(time.Hour).UnixMicro()
		if err := beneath.Exec("INSERT INTO job_leases (name, owner, until_us) VALUES (?, ?, ?)", evidence.JobLease, "other-node", until).Error; err != nil {
			t.Fatal(err)
		}
		rec = auditor.PostForm("/evidence", url.Values{"framework": {"pci"}, "from": {"2025-06-01"}, "to": {"2025-06-30"}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/evidence?notice=queued" {
			t.Fatalf("generate while another node runs the jobs: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		a.EvidenceJobs.Wait()
		page := auditor.Do(http.MethodGet, "/evidence?notice=queued", "").Body.String()
		for _, want := range []string{"being generated in the background", "<progress", "/static/evidence-jobs.js", "Queued"} {
			if !strings.Contains(page, want) {
				t.Errorf("the page with a queued report lacks %q", want)
			}
		}
		list = accounttest.Decode[evidencehttp.ListBody](t, auditor.Do(http.MethodGet, "/api/v1/evidence/reports", ""))
		var queued evidencehttp.ReportBody
		for _, r := range list.Reports {
			if r.ID != asked.ID {
				queued = r
			}
		}
		if queued.Status != evidence.JobQueued || queued.Download != "" {
			t.Fatalf("queued report = %+v", queued)
		}
		if rec := auditor.Do(http.MethodGet, "/evidence/"+queued.ID+"/download", ""); rec.Code != http.StatusConflict {
			t.Errorf("download of a queued report = %d, want 409", rec.Code)
		}
		if n, err := a.EvidenceJobs.RunOnce(ctx); err != nil || n != 0 {
			t.Errorf("a run without the lease did %d jobs (%v)", n, err)
		}
		if err := beneath.Exec("DELETE FROM job_leases WHERE name = ?", evidence.JobLease).Error; err != nil {
			t.Fatal(err)
		}
		if n, err := a.EvidenceJobs.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("the run after the lease was freed did %d jobs (%v)", n, err)
		}
		if r, _ := store.Status(migrations.WithTenant(ctx, org.ID), org.ID, queued.ID); r.Status != evidence.JobDone || r.Attempts != 1 {
			t.Errorf("the queued report is now %s after %d attempts", r.Status, r.Attempts)
		}

		// Jobs whose node stopped: one is taken again, the other has had its last attempt.
		stale := a.Now().Add(-10 * time.Minute).UnixMicro()
		for id, attempts := range map[string]int{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": 1, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb": 3} {
			if err := store.Save(ctx, evidence.Stored{ID: id, TenantID: org.ID, Framework: evidence.PCI, PeriodFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
				PeriodTo: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), CreatedAt: a.Now().Add(-time.Hour), CreatedBy: auditorUser.ID,
				Status: evidence.JobRunning, Progress: 40, Stage: "running the checks", Attempts: attempts, HeartbeatUs: stale}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := a.EvidenceJobs.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("the run after a node stopped did %d jobs (%v)", n, err)
		}
		tctx := migrations.WithTenant(ctx, org.ID)
		if r, _ := store.Status(tctx, org.ID, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); r.Status != evidence.JobDone || r.Attempts != 2 {
			t.Errorf("the interrupted job is %s after %d attempts, want done after 2", r.Status, r.Attempts)
		}
		if r, _ := store.Status(tctx, org.ID, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"); r.Status != evidence.JobFailed || r.Failure != "interrupted" {
			t.Errorf("the job out of attempts is %s (%q), want failed interrupted", r.Status, r.Failure)
		}
		var failed bool
		for _, e := range a.AuditEvents(org.ID, audit.ActionEvidenceGenerate) {
			if e.Target.ID == "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" && e.Outcome == audit.Failure && e.Reason == "interrupted" {
				failed = true
			}
		}
		if !failed {
			t.Error("the failed job is not in the audit log")
		}
		if page := auditor.Do(http.MethodGet, "/evidence", "").Body.String(); !strings.Contains(page, "Generation failed") {
			t.Error("the page does not show the failed report")
		}
	})
}

// TestEvidenceSweepIsAudited: the six-year sweep deletes only reports whose six years have
// passed and records evidence.expire for each organisation with the count, counts only.
func TestEvidenceSweepIsAudited(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, map[string]string{"PARLEY_DATA_DIR": t.TempDir()})
		org, owner := a.CreateUser("Acme Bank", "owner@acme.test", testPassword, "owner", false)
		other, otherOwner := a.CreateUser("Other Bank", "owner@other.test", testPassword, "owner", false)
		ctx := context.Background()
		store := &evidence.Store{DB: db.Gorm}
		for id, created := range map[string]time.Time{"0000000000000000000000000000000a": a.Now().AddDate(-7, 0, 0),
			"0000000000000000000000000000000b": a.Now().AddDate(-5, 0, 0)} {
			if err := store.Save(ctx, evidence.Stored{ID: id, TenantID: org.ID, Framework: evidence.PCI, PeriodFrom: created.AddDate(-1, 0, 0),
				PeriodTo: created, CreatedAt: created, CreatedBy: owner.ID, SHA256: "ab", Size: 4, Bundle: []byte("tar!")}); err != nil {
				t.Fatal(err)
			}
		}
		// Both organisations have an audit chain: the sweep walks the organisations that do.
		for _, tn := range []struct{ id, user string }{{org.ID, owner.ID}, {other.ID, otherOwner.ID}} {
			if err := a.App.Audit.Record(migrations.WithTenant(ctx, tn.id), audit.Event{Tenant: tn.id, Actor: audit.Actor{ID: tn.user, Kind: audit.ActorUser},
				Action: audit.ActionUserUpdate, Target: audit.Target{Kind: "user", ID: tn.user}, Outcome: audit.Success}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.App.Audit.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.SweepEvidence(ctx); err != nil {
			t.Fatal(err)
		}
		list, err := store.List(migrations.WithTenant(ctx, org.ID), org.ID, 10)
		if err != nil || len(list) != 1 || list[0].ID != "0000000000000000000000000000000b" {
			t.Fatalf("after the sweep: %+v %v", list, err)
		}
		for _, tc := range []struct {
			tenant, deleted string
		}{{org.ID, "1"}, {other.ID, "0"}} {
			evs := a.AuditEvents(tc.tenant, audit.ActionEvidenceExpire)
			if len(evs) != 1 || evs[0].Details["deleted"] != tc.deleted || evs[0].Actor.Kind != audit.ActorSystem || evs[0].Outcome != audit.Success {
				t.Errorf("%s: evidence.expire records = %+v, want one with deleted=%s", tc.tenant, evs, tc.deleted)
			}
		}
	})
}

package integrity_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/integrity"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

const testPassword = "Tr1cky-Lantern-Harbour"

var jobLocation = regexp.MustCompile(`^/integrity\?job=([0-9a-f]{32})$`)

// TestIntegrityPage: an auditor starts a verification from the Integrity page, which answers at
// once and then shows the result (every event checked, the chain intact); the API gives the
// same job, the signed checkpoints with their key version and signature status, and the
// forwarding destinations named without the server's folders; an agent is refused (403,
// audited); the verification is recorded in the audit log.
func TestIntegrityPage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		dir := t.TempDir()
		forwardFile := filepath.Join(dir, "audit.jsonl")
		a := accounttest.New(t, db, map[string]string{"PARLEY_DATA_DIR": dir, "PARLEY_AUDIT_FORWARD_FILE": forwardFile})
		org, _ := a.CreateUser("Acme Bank", "owner@acme.test", testPassword, "owner", false)
		a.CreateUser("Acme Bank", "auditor@acme.test", testPassword, "auditor", false)
		_, agentUser := a.CreateUser("Acme Bank", "agent@acme.test", testPassword, "agent", false)
		auditor := a.Client("198.51.100.7:1000").SignIn(org.Slug, "auditor@acme.test", testPassword)
		agent := a.Client("198.51.100.8:1000").SignIn(org.Slug, "agent@acme.test", testPassword)
		ctx := migrations.WithTenant(context.Background(), org.ID)
		for i := 0; i < 5; i++ {
			if err := a.App.Audit.Record(ctx, audit.Event{Tenant: org.ID, Actor: audit.Actor{ID: "setup", Kind: audit.ActorSystem},
				Action: audit.ActionUserUpdate, Target: audit.Target{Kind: "tenant", ID: org.ID}, Outcome: audit.Success}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.App.Audit.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.App.Audit.Checkpoint(ctx, org.ID); err != nil {
			t.Fatal(err)
		}

		rec := auditor.Do(http.MethodGet, "/integrity", "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "has not been verified from the console yet") {
			t.Fatalf("first visit: %d %s", rec.Code, rec.Body)
		}
		rec = auditor.PostForm("/integrity/verify", url.Values{})
		m := jobLocation.FindStringSubmatch(rec.Header().Get("Location"))
		if rec.Code != http.StatusSeeOther || m == nil {
			t.Fatalf("verify now: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		a.Integrity.Wait()
		body := auditor.Do(http.MethodGet, m[0], "").Body.String()
		for _, want := range []string{"The chain verifies.", "events checked", "Signed checkpoints", "verifies</span>", "JSON-lines file audit.jsonl"} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if strings.Contains(body, dir) {
			t.Error("the page shows the server's folder of the forwarding file")
		}

		job := accounttest.Decode[integrity.Job](t, auditor.Do(http.MethodGet, "/api/v1/audit/verifications/"+m[1], ""))
		if job.Status != integrity.StatusDone || job.Result == nil || !job.Result.Intact || job.Checked == 0 || job.Checked != job.Total || job.Percent != 100 {
			t.Errorf("job = %+v", job)
		}
		if latest := accounttest.Decode[integrity.Job](t, auditor.Do(http.MethodGet, "/api/v1/audit/verifications/latest", "")); latest.ID != m[1] {
			t.Errorf("latest = %s, want %s", latest.ID, m[1])
		}
		verified := a.AuditEvents(org.ID, audit.ActionAuditVerify)
		if len(verified) != 1 || verified[0].Details["job"] != m[1] || verified[0].Outcome != audit.Success {
			t.Errorf("audit.verify records = %+v", verified)
		}

		rec = auditor.Do(http.MethodPost, "/api/v1/audit/verifications", "")
		if rec.Code != http.StatusAccepted || !strings.HasPrefix(rec.Header().Get("Location"), "/api/v1/audit/verifications/") {
			t.Fatalf("API start: %d %s", rec.Code, rec.Body)
		}
		a.Integrity.Wait()

		cps := accounttest.Decode[integrity.CheckpointsBody](t, auditor.Do(http.MethodGet, "/api/v1/audit/checkpoints", ""))
		if len(cps.Checkpoints) == 0 || !cps.Checkpoints[0].Verified || cps.Checkpoints[0].KeyVersion != 1 || cps.Checkpoints[0].KeyID == "" {
			t.Errorf("checkpoints = %+v", cps)
		}
		fw := accounttest.Decode[integrity.Forwarding](t, auditor.Do(http.MethodGet, "/api/v1/audit/forwarding", ""))
		if !fw.Configured || len(fw.Destinations) != 1 || fw.Destinations[0].Kind != "file" || fw.Destinations[0].State != integrity.DestinationNever ||
			fw.Destinations[0].Lag != fw.Head || fw.Head == 0 || fw.Destinations[0].OldestPending == nil {
			t.Errorf("forwarding = %+v", fw)
		}

		for _, bad := range []string{"/api/v1/audit/verifications/not-a-job", "/api/v1/audit/verifications/0123456789abcdef0123456789abcdef"} {
			if rec := auditor.Do(http.MethodGet, bad, ""); rec.Code != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", bad, rec.Code)
			}
		}
		before := len(a.AuditEvents(org.ID, audit.ActionPermissionDenied))
		if rec := agent.Do(http.MethodGet, "/integrity", ""); rec.Code != http.StatusForbidden {
			t.Errorf("agent's page: %d", rec.Code)
		}
		if rec := agent.PostForm("/integrity/verify", url.Values{}); rec.Code != http.StatusForbidden {
			t.Errorf("agent's verify: %d", rec.Code)
		}
		denied := a.AuditEvents(org.ID, audit.ActionPermissionDenied)
		if len(denied) != before+2 || denied[len(denied)-1].Actor.ID != agentUser.ID {
			t.Errorf("the agent's refusals are not audited: %d → %d", before, len(denied))
		}
	})
}

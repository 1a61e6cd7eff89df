package evidencehttp_test

import (
	"bytes"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/evidence"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

const testPassword = "Tr1cky-Lantern-Harbour"

var downloadLink = regexp.MustCompile(`href="(/evidence/[0-9a-f]{32}/download)"`)

// TestEvidencePage: an auditor generates a report from the Evidence page, finds it in the
// history and downloads a bundle that verifies offline under the published key; an agent
// without evidence.generate is refused (403, audited) and sees no page; another organisation's
// report answers 404; bad periods are refused with a message.
func TestEvidencePage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		dataDir := t.TempDir()
		a := accounttest.New(t, db, map[string]string{"PARLEY_DATA_DIR": dataDir})
		org, _ := a.CreateUser("Acme Bank", "owner@acme.test", testPassword, "owner", false)
		a.CreateUser("Acme Bank", "auditor@acme.test", testPassword, "auditor", false)
		_, agentUser := a.CreateUser("Acme Bank", "agent@acme.test", testPassword, "agent", false)
		other, _ := a.CreateUser("Other Bank", "owner@other.test", testPassword, "owner", false)
		client := func(slug, email string) *accounttest.Client {
			return a.Client("198.51.100.7:1000").SignIn(slug, email, testPassword)
		}
		auditor := client(org.Slug, "auditor@acme.test")
		agent := client(org.Slug, "agent@acme.test")
		otherOwner := client(other.Slug, "owner@other.test")

		rec := auditor.Do(http.MethodGet, "/evidence", "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Generate report") || !strings.Contains(rec.Body.String(), "No evidence report has been generated yet") {
			t.Fatalf("auditor's page: %d %s", rec.Code, rec.Body)
		}
		if !strings.Contains(rec.Body.String(), `href="/evidence"`) {
			t.Error("the navigation does not link the Evidence page for the auditor")
		}

		for _, bad := range []url.Values{
			{"framework": {"sox"}, "from": {"2026-01-01"}, "to": {"2026-01-04"}},
			{"framework": {"pci"}, "from": {"2026-01-04"}, "to": {"2026-01-01"}},
			{"framework": {"pci"}, "from": {"4111111111111111"}, "to": {"2026-01-01"}},
			{"framework": {"hipaa"}, "from": {"2030-01-01"}, "to": {"2030-01-04"}},
		} {
			rec := auditor.PostForm("/evidence", bad)
			if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `role="alert"`) || strings.Contains(rec.Body.String(), "4111111111111111") {
				t.Errorf("%v: %d", bad, rec.Code)
			}
		}

		rec = auditor.PostForm("/evidence", url.Values{"framework": {"pci"}, "from": {"2025-01-01"}, "to": {"2026-01-04"}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/evidence?notice=generated" {
			t.Fatalf("generate: %d %s", rec.Code, rec.Body)
		}
		rec = auditor.Do(http.MethodGet, "/evidence?notice=generated", "")
		m := downloadLink.FindStringSubmatch(rec.Body.String())
		if m == nil || !strings.Contains(rec.Body.String(), "PCI DSS v4.0.1") {
			t.Fatalf("the history lists no report: %s", rec.Body)
		}
		rec = auditor.Do(http.MethodGet, m[1], "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Disposition"), "parley-evidence-pci-20250101-20260104.tar") {
			t.Fatalf("download: %d %v", rec.Code, rec.Header())
		}
		pub, err := audit.LoadFileSigner(filepath.Join(dataDir, audit.DefaultKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := evidence.Verify(bytes.NewReader(rec.Body.Bytes()), audit.PublicKey{ID: pub.KeyID(), Key: pub.PublicKey()})
		if err != nil || !rep.KeysTrusted || rep.Manifest.Tenant != org.ID || rep.Manifest.Framework != evidence.PCI {
			t.Fatalf("the downloaded bundle does not verify: %+v %v", rep.Manifest, err)
		}
		if n := len(a.AuditEvents(org.ID, audit.ActionEvidenceGenerate)); n != 1 {
			t.Errorf("%d evidence.generate events, want 1", n)
		}
		if n := len(a.AuditEvents(org.ID, audit.ActionEvidenceDownload)); n != 1 {
			t.Errorf("%d evidence.download events, want 1", n)
		}

		// Another organisation's report is not found; an agent may neither see nor generate.
		if rec := otherOwner.Do(http.MethodGet, m[1], ""); rec.Code != http.StatusNotFound {
			t.Errorf("another organisation's download: %d", rec.Code)
		}
		if rec := auditor.Do(http.MethodGet, "/evidence/not-an-id/download", ""); rec.Code != http.StatusNotFound {
			t.Errorf("a malformed id: %d", rec.Code)
		}
		if rec := agent.Do(http.MethodGet, "/evidence", ""); rec.Code != http.StatusForbidden {
			t.Errorf("agent's page: %d", rec.Code)
		}
		before := len(a.AuditEvents(org.ID, audit.ActionPermissionDenied))
		if rec := agent.PostForm("/evidence", url.Values{"framework": {"pci"}, "from": {"2025-01-01"}, "to": {"2026-01-04"}}); rec.Code != http.StatusForbidden {
			t.Errorf("agent generating: %d", rec.Code)
		}
		denied := a.AuditEvents(org.ID, audit.ActionPermissionDenied)
		if len(denied) != before+1 || denied[len(denied)-1].Actor.ID != agentUser.ID {
			t.Errorf("the agent's refused request is not in the audit log: %d → %d", before, len(denied))
		}
		if n := len(a.AuditEvents(org.ID, audit.ActionEvidenceGenerate)); n != 1 {
			t.Errorf("the refused request generated a report: %d events", n)
		}
	})
}

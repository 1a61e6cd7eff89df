package keysapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/keysapi"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestKeyStatusReadOnly: the auditor (keys.view) sees the key status — provider, versions, the
// minimum decryption version, the key's age and the rotation due date — with no rotation form,
// and rotating answers 403 (audited) for them; the owner (keys.manage) sees the form.
func TestKeyStatusReadOnly(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		_, auditorUser := h.CreateUser(h.Tenant.Name, "auditor@acme.test", testPassword, "auditor", false)
		auditor := h.SignIn(h.Tenant.Slug, "auditor@acme.test")
		start := h.version(h.Tenant.ID)

		body := accounttest.Decode[keysapi.StatusBody](t, auditor.Do(http.MethodGet, "/api/v1/keys/status", ""))
		r := body.Rotation
		if body.Provider != "local-dev" || body.Key.LatestVersion != start || r.PeriodDays != 365 || r.Since.IsZero() ||
			!r.Due.Equal(r.Since.Add(365*24*time.Hour)) || r.Overdue {
			t.Errorf("status = %+v, rotation %+v", body.TenantKeyReport, r)
		}

		rec := auditor.Do(http.MethodGet, "/keys", "")
		page := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(page, "Rotation due") || !strings.Contains(page, "Minimum decryption version") ||
			strings.Contains(page, `action="/keys/rotate"`) {
			t.Fatalf("auditor's key page: %d %s", rec.Code, page)
		}
		before := len(h.AuditEvents(h.Tenant.ID, audit.ActionPermissionDenied))
		if rec := form(auditor, "/keys/rotate", url.Values{"confirm": {"ROTATE"}, "expected_latest_version": {"1"}}); rec.Code != http.StatusForbidden {
			t.Errorf("auditor's rotation form = %d, want 403", rec.Code)
		}
		if rec := auditor.Do(http.MethodPost, "/api/v1/keys/rotate", "{}"); rec.Code != http.StatusForbidden {
			t.Errorf("auditor's rotation API = %d, want 403", rec.Code)
		}
		denied := h.AuditEvents(h.Tenant.ID, audit.ActionPermissionDenied)
		if len(denied) != before+2 || denied[len(denied)-1].Actor.ID != auditorUser.ID {
			t.Errorf("the refused rotations are not audited: %d → %d", before, len(denied))
		}
		if got := h.version(h.Tenant.ID); got != start {
			t.Errorf("the key rotated for the auditor: %d → %d", start, got)
		}
		if page := h.Owner.Do(http.MethodGet, "/keys", "").Body.String(); !strings.Contains(page, `action="/keys/rotate"`) {
			t.Error("the owner's key page offers no rotation")
		}

	})
}

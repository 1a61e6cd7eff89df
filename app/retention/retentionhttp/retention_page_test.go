package retentionhttp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestRetentionPage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		retention := func(tenantID string) int {
			t.Helper()
			d, err := h.App.Visitors.Retention(context.Background(), tenantID)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		rec := h.Owner.Do(http.MethodGet, "/retention", "")
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("page = %d %s", rec.Code, body)
		}
		for _, want := range []string{"<strong>30 days</strong> (the default)", "What is deleted, and when", h.Owner.CSRF, `value="30"`,
			`href="/static/ops.css"`, `<a href="/retention" aria-current="page">`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		cases := []struct {
			name     string
			days     string
			status   int
			location string
			contains string
			want     int
			// audited is how many retention.change records the request adds.
			audited int
		}{
			{name: "change", days: "90", status: http.StatusSeeOther, location: "/retention?notice=retention_changed", want: 90, audited: 1},
			{name: "double submit", days: "90", status: http.StatusSeeOther, location: "/retention?notice=retention_unchanged", want: 90},
			{name: "zero", days: "0", status: http.StatusUnprocessableEntity, contains: "Retention must be 1 to 3650 days.", want: 90},
			{name: "too long", days: "3651", status: http.StatusUnprocessableEntity, contains: `value="3651"`, want: 90},
			{name: "not a number", days: "<b>ten</b>", status: http.StatusUnprocessableEntity, contains: "Enter a whole number of days.", want: 90},
			{name: "card number", days: "4111111111111111", status: http.StatusUnprocessableEntity, contains: `id="days-error"`, want: 90},
			{name: "shorten", days: " 7 ", status: http.StatusSeeOther, location: "/retention?notice=retention_changed", want: 7, audited: 1},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := len(h.AuditEvents(h.Tenant.ID, audit.ActionRetentionChange))
				rec := form(h.Owner, "/retention", url.Values{"days": {tc.days}})
				if rec.Code != tc.status {
					t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.status, rec.Body)
				}
				if got := rec.Header().Get("Location"); got != tc.location {
					t.Errorf("redirect to %q, want %q", got, tc.location)
				}
				body := rec.Body.String()
				if tc.contains != "" && !strings.Contains(body, tc.contains) {
					t.Errorf("page lacks %q:\n%s", tc.contains, body)
				}
				if tc.status != http.StatusSeeOther && (!strings.Contains(body, `aria-invalid="true"`) || strings.Contains(body, "<b>ten") || strings.Contains(body, "4111111111111111")) {
					t.Errorf("the field error is not marked, or the input is reflected")
				}
				if got := retention(h.Tenant.ID); got != tc.want {
					t.Errorf("retention = %d, want %d", got, tc.want)
				}
				evs := h.AuditEvents(h.Tenant.ID, audit.ActionRetentionChange)
				if got := len(evs) - before; got != tc.audited {
					t.Fatalf("retention.change records = %d, want %d", got, tc.audited)
				}
				if tc.audited > 0 {
					ev := evs[len(evs)-1]
					if ev.Actor.ID != h.OwnerID || ev.Outcome != audit.Success || ev.Details["days"] != strings.TrimSpace(tc.days) || ev.RequestID == "" {
						t.Errorf("audit record = %+v", ev.Event)
					}
				}
			})
		}
		if got := retention(h.Other.ID); got != visitor.DefaultRetentionDays {
			t.Errorf("the other tenant's retention = %d, want the default", got)
		}
		rec = h.Owner.Do(http.MethodGet, "/retention?notice=retention_changed", "")
		if body := rec.Body.String(); !strings.Contains(body, "The retention was changed.") || !strings.Contains(body, "<strong>7 days</strong>") {
			t.Errorf("page after the change lacks the notice or the new period")
		}
		// The JSON route shares the change and its audit record.
		before := len(h.AuditEvents(h.Tenant.ID, audit.ActionRetentionChange))
		if rec := h.Owner.Do(http.MethodPut, "/api/v1/visitor-retention", `{"days":14}`); rec.Code != http.StatusOK || retention(h.Tenant.ID) != 14 {
			t.Errorf("PUT = %d %s", rec.Code, rec.Body)
		}
		if rec := h.Owner.Do(http.MethodPut, "/api/v1/visitor-retention", `{"days":0}`); rec.Code != http.StatusBadRequest {
			t.Errorf("PUT 0 days = %d, want 400", rec.Code)
		} else if code, field := accounttest.ErrorOf(t, rec); code != "invalid_request" || field != "days" {
			t.Errorf("PUT 0 days: %s on %q", code, field)
		}
		if got := len(h.AuditEvents(h.Tenant.ID, audit.ActionRetentionChange)) - before; got != 1 {
			t.Errorf("retention.change records of the API = %d, want 1", got)
		}
		// retention.manage only.
		if rec := h.Agent.Do(http.MethodGet, "/retention", ""); rec.Code != http.StatusForbidden {
			t.Errorf("agent page = %d, want 403", rec.Code)
		}
		if rec := form(h.Agent, "/retention", url.Values{"days": {"1"}}); rec.Code != http.StatusForbidden || retention(h.Tenant.ID) != 14 {
			t.Errorf("agent form = %d, retention %d; want 403 and 14", rec.Code, retention(h.Tenant.ID))
		}
		// Without the CSRF token the form is refused.
		h.Owner.CSRF, h.Owner.Header = "", http.Header{}
		if rec := h.Owner.DoRequest(formWithout("/retention", url.Values{"days": {"5"}})); rec.Code != http.StatusForbidden {
			t.Errorf("form without CSRF = %d, want 403", rec.Code)
		}
	})
}

package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/compliancehttp"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

const modePassword = "Tr1cky-Lantern-Harbour"

// TestComplianceDrift: an organisation turns PCI DSS on over the development key provider and
// without TLS; after the drift is computed, the administrator's overview and the auditor's audit
// log list the drifting controls with their fix, /readyz stays ready and counts them in
// compliance_drift, and /metrics publishes the count with no tenant. Turning the mode off clears
// all three.
func TestComplianceDrift(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, map[string]string{"PARLEY_METRICS_TOKEN": metricsToken})
		org, _ := a.CreateUser("Acme Bank", "owner@acme.test", modePassword, "owner", false)
		a.CreateUser("Acme Bank", "auditor@acme.test", modePassword, "auditor", false)
		owner := a.Client("198.51.100.7:1000").SignIn(org.Slug, "owner@acme.test", modePassword)
		auditor := a.Client("198.51.100.8:1000").SignIn(org.Slug, "auditor@acme.test", modePassword)
		ctx := context.Background()

		if rec := owner.Do(http.MethodPut, "/api/v1/compliance-mode", `{"pci":true,"hipaa":false}`); rec.Code != http.StatusOK {
			t.Fatalf("turn on: %d %s", rec.Code, rec.Body)
		}
		if rec := owner.Do(http.MethodGet, "/api/v1/compliance-mode", ""); !accounttest.Decode[compliancehttp.Body](t, rec).Pending {
			t.Errorf("before the monitor ran, the drift is not pending: %s", rec.Body)
		}
		if err := a.ComplianceDrift.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		body := accounttest.Decode[compliancehttp.Body](t, owner.Do(http.MethodGet, "/api/v1/compliance-mode", ""))
		checks := map[string]bool{}
		for _, it := range body.Drift {
			checks[it.Check] = true
		}
		for _, want := range []string{"key-provider", "tls", "mfa-enforced", "access-review"} {
			if !checks[want] {
				t.Errorf("drift lacks %s: %+v", want, body.Drift)
			}
		}
		if checks["audit-chain"] {
			t.Error("the audit chain is the background verifier's, not drift")
		}

		page := owner.Do(http.MethodGet, "/overview", "").Body.String()
		for _, want := range []string{"Compliance drift", "PCI DSS 3.5.1", "PCI DSS 8.4.1-8.4.3", `href="/keys"`, `href="/security"`} {
			if !strings.Contains(page, want) {
				t.Errorf("overview lacks %q", want)
			}
		}
		for _, path := range []string{"/audit", "/integrity"} {
			if page := auditor.Do(http.MethodGet, path, "").Body.String(); !strings.Contains(page, "Compliance drift") || !strings.Contains(page, "PCI DSS 3.5.1") {
				t.Errorf("the auditor's %s shows no drift", path)
			} else if strings.Contains(page, "Open the setting") {
				t.Errorf("the auditor's read-only %s links settings they cannot open", path)
			}
		}

		bearer := http.Header{"Authorization": {"Bearer " + metricsToken}}
		rec := a.Do(apptest.Request{Method: http.MethodGet, Path: "/readyz", Header: bearer})
		var ready struct {
			Status string
			Checks map[string]struct {
				Status string
				Detail map[string]any
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &ready); err != nil {
			t.Fatal(err)
		}
		cd := ready.Checks["compliance_drift"]
		if rec.Code != http.StatusOK || ready.Status != "ready" || cd.Status != "ok" || cd.Detail["drifting_checks"] != float64(len(body.Drift)) ||
			cd.Detail["alert"] != "compliance_drift" || cd.Detail["organisations_drifting"] != float64(1) {
			t.Errorf("readyz: %d %s", rec.Code, rec.Body)
		}
		metrics := a.Do(apptest.Request{Method: http.MethodGet, Path: "/metrics", Header: bearer}).Body.String()
		if want := fmt.Sprintf("parley_compliance_drift_checks %d\n", len(body.Drift)); !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
		if strings.Contains(metrics, org.ID) || strings.Contains(metrics, org.Slug) {
			t.Error("metrics name the organisation")
		}

		if rec := owner.Do(http.MethodPut, "/api/v1/compliance-mode", `{"pci":false,"hipaa":false,"reason":"back to the pilot"}`); rec.Code != http.StatusOK {
			t.Fatalf("turn off: %d %s", rec.Code, rec.Body)
		}
		if err := a.ComplianceDrift.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if page := owner.Do(http.MethodGet, "/overview", "").Body.String(); strings.Contains(page, "Compliance drift") {
			t.Error("overview shows drift with the mode off")
		}
		metrics = a.Do(apptest.Request{Method: http.MethodGet, Path: "/metrics", Header: bearer}).Body.String()
		if !strings.Contains(metrics, "parley_compliance_drift_checks 0\n") {
			t.Error("metrics still count drift with the mode off")
		}
	})
}

// TestCheckComplianceAtStart: `parley serve` refuses to serve an organisation in a compliance
// mode over the development key provider, naming the organisation and the controls; with no
// organisation in a mode it starts.
func TestCheckComplianceAtStart(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		org, _ := a.CreateUser("Acme Clinic", "owner@clinic.test", modePassword, "owner", false)
		owner := a.Client("198.51.100.7:1000").SignIn(org.Slug, "owner@clinic.test", modePassword)
		if a.Keys.Production() {
			t.Skip("the test installation runs a production key provider")
		}
		if err := a.CheckCompliance(context.Background()); err != nil {
			t.Fatalf("no organisation in a mode: %v", err)
		}
		if rec := owner.Do(http.MethodPut, "/api/v1/compliance-mode", `{"pci":false,"hipaa":true}`); rec.Code != http.StatusOK {
			t.Fatalf("turn on: %d %s", rec.Code, rec.Body)
		}
		err := a.CheckCompliance(context.Background())
		if err == nil || !strings.Contains(err.Error(), "HIPAA 164.312(a)(2)(iv)") || !strings.Contains(err.Error(), org.Slug) ||
			!strings.Contains(err.Error(), "parley compliance-mode set") {
			t.Fatalf("got %v, want a refusal naming the organisation and HIPAA 164.312(a)(2)(iv)", err)
		}
	})
}

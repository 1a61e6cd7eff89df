package compliancehttp_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/compliancehttp"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

const testPassword = "Tr1cky-Lantern-Harbour"

// refusal reads a compliance_mode error body.
type refusal struct {
	Error struct {
		Code    string              `json:"code"`
		Message string              `json:"message"`
		Field   string              `json:"field"`
		Details mode.RefusalDetails `json:"details"`
	} `json:"error"`
}

// TestRefusalsThroughTheAPI: under PCI DSS, HIPAA and both, every setting that would break one of
// the mode's controls answers 409 compliance_mode naming the control in the message and in
// details, and is audited; a tightened or still-compliant change passes; with the mode off the
// same change is accepted. Turning a framework off needs a reason.
func TestRefusalsThroughTheAPI(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		org, owner := a.CreateUser("Acme Bank", "owner@acme.test", testPassword, "owner", false)
		ctx := migrations.WithTenant(context.Background(), org.ID)
		site, err := a.Tenants.CreateSite(ctx, org.ID, "Support", []string{"https://support.acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		c := a.Client("198.51.100.7:1000").SignIn(org.Slug, "owner@acme.test", testPassword)
		setMode := func(body string) {
			t.Helper()
			if rec := c.Do(http.MethodPut, "/api/v1/compliance-mode", body); rec.Code != http.StatusOK {
				t.Fatalf("set mode %s: %d %s", body, rec.Code, rec.Body)
			}
		}
		siteSettings := func(email bool) string {
			rec := c.Do(http.MethodGet, "/api/v1/chat/sites/"+site.ID+"/settings", "")
			if rec.Code != http.StatusOK {
				t.Fatalf("site settings: %d %s", rec.Code, rec.Body)
			}
			body := rec.Body.String()
			return strings.Replace(body, `"transcript_email":false`, `"transcript_email":`+map[bool]string{true: "true", false: "false"}[email], 1)
		}
		// MFA is required of everyone first (allowed under every mode), so that turning it off is
		// a change; the owner's session, signed in before, stays usable.
		if rec := c.Do(http.MethodPut, "/api/v1/security/settings/mfa", `{"required":true}`); rec.Code != http.StatusOK {
			t.Fatalf("require MFA: %d %s", rec.Code, rec.Body)
		}

		type request struct {
			name, method, path string
			body               func() string
		}
		fixed := func(s string) func() string { return func() string { return s } }
		mfaOff := request{"MFA off", http.MethodPut, "/api/v1/security/settings/mfa", fixed(`{"required":false}`)}
		mfaExempt := request{"MFA only for admins (owner exempted)", http.MethodPut, "/api/v1/security/settings/mfa", fixed(`{"required":false,"required_roles":["admin"]}`)}
		shortPassword := request{"password minimum 10", http.MethodPut, "/api/v1/security/settings/password", fixed(`{"min_length":10}`)}
		noDigits := request{"password without digits", http.MethodPut, "/api/v1/security/settings/password", fixed(`{"require_letter_and_digit":false,"require_digit":false}`)}
		history := request{"password history 2", http.MethodPut, "/api/v1/security/settings/password", fixed(`{"history_depth":2}`)}
		lockoutCount := request{"lockout after 11", http.MethodPut, "/api/v1/security/settings/signin", fixed(`{"lockout_threshold":11,"disable_after":100}`)}
		lockoutShort := request{"lockout of 20 minutes", http.MethodPut, "/api/v1/security/settings/signin", fixed(`{"lockout_minutes":20}`)}
		idle := request{"idle timeout 30", http.MethodPut, "/api/v1/security/settings/session", fixed(`{"idle_timeout_minutes":30,"pci":false}`)}
		inactive := request{"never disable unused accounts", http.MethodPut, "/api/v1/security/settings/session", fixed(`{"inactive_after_days":0,"pci":false}`)}
		email := request{"transcript e-mail on", http.MethodPut, "/api/v1/chat/sites/" + site.ID + "/settings", func() string { return siteSettings(true) }}

		for _, tc := range []struct {
			mode string
			req  request
			want []string // controls named, in order
		}{
			{`{"pci":true,"hipaa":false}`, mfaOff, []string{"PCI DSS 8.4.1-8.4.3"}},
			{`{"pci":true,"hipaa":false}`, mfaExempt, []string{"PCI DSS 8.4.1-8.4.3"}},
			{`{"pci":false,"hipaa":true}`, mfaOff, []string{"HIPAA 164.312(d)"}},
			{`{"pci":true,"hipaa":true}`, mfaOff, []string{"PCI DSS 8.4.1-8.4.3", "HIPAA 164.312(d)"}},
			{`{"pci":true,"hipaa":false}`, shortPassword, []string{"PCI DSS 8.3.6-8.3.7"}},
			{`{"pci":true,"hipaa":false}`, noDigits, []string{"PCI DSS 8.3.6-8.3.7"}},
			{`{"pci":true,"hipaa":false}`, history, []string{"PCI DSS 8.3.6-8.3.7"}},
			{`{"pci":false,"hipaa":true}`, shortPassword, []string{"HIPAA 164.312(d)", "HIPAA 164.308(a)(5)(ii)(D)"}},
			{`{"pci":true,"hipaa":true}`, history, []string{"PCI DSS 8.3.6-8.3.7", "HIPAA 164.312(d)", "HIPAA 164.308(a)(5)(ii)(D)"}},
			{`{"pci":true,"hipaa":false}`, lockoutCount, []string{"PCI DSS 8.3.4"}},
			{`{"pci":true,"hipaa":false}`, lockoutShort, []string{"PCI DSS 8.3.4"}},
			{`{"pci":false,"hipaa":true}`, lockoutShort, []string{"HIPAA 164.312(d)", "HIPAA 164.308(a)(5)(ii)(C)"}},
			{`{"pci":true,"hipaa":false}`, idle, []string{"PCI DSS 8.2.8"}},
			{`{"pci":false,"hipaa":true}`, idle, []string{"HIPAA 164.312(a)(2)(iii)"}},
			{`{"pci":true,"hipaa":true}`, idle, []string{"PCI DSS 8.2.8", "HIPAA 164.312(a)(2)(iii)"}},
			{`{"pci":true,"hipaa":false}`, inactive, []string{"PCI DSS 8.2.6"}},
			{`{"pci":false,"hipaa":true}`, inactive, []string{"HIPAA 164.312(a)(2)(i)"}},
			{`{"pci":true,"hipaa":false}`, email, []string{"PCI DSS 4.2.2"}},
			{`{"pci":false,"hipaa":true}`, email, []string{"HIPAA 164.312(e)(1)-(e)(2)"}},
			{`{"pci":true,"hipaa":true}`, email, []string{"PCI DSS 4.2.2", "HIPAA 164.312(e)(1)-(e)(2)"}},
		} {
			t.Run(tc.req.name+" under "+tc.mode, func(t *testing.T) {
				setMode(`{"pci":true,"hipaa":true}`) // both on, then the one under test
				setMode(strings.Replace(tc.mode, "}", `,"reason":"test: the mode under test"}`, 1))
				before := len(a.Audit.Find(accountRefusal)) + len(a.AuditEvents(org.ID, audit.ActionComplianceRefused))
				rec := c.Do(tc.req.method, tc.req.path, tc.req.body())
				if rec.Code != http.StatusConflict {
					t.Fatalf("got %d %s, want 409", rec.Code, rec.Body)
				}
				r := accounttest.Decode[refusal](t, rec)
				if r.Error.Code != mode.RefusalCode || !slices.Equal(r.Error.Details.Controls, tc.want) || r.Error.Details.Control != tc.want[0] {
					t.Fatalf("got %s %v, want compliance_mode naming %v", r.Error.Code, r.Error.Details.Controls, tc.want)
				}
				for _, ctl := range tc.want {
					if !strings.Contains(r.Error.Message, ctl) {
						t.Errorf("message %q does not name %s", r.Error.Message, ctl)
					}
				}
				if len(r.Error.Details.Problems) == 0 {
					t.Error("no problem listed")
				}
				after := len(a.Audit.Find(accountRefusal)) + len(a.AuditEvents(org.ID, audit.ActionComplianceRefused))
				if after != before+1 {
					t.Errorf("refusal audited %d times, want once", after-before)
				}
			})
		}

		// Under both frameworks, tightened-but-compliant changes pass.
		setMode(`{"pci":true,"hipaa":true}`)
		for _, ok := range []request{
			{"password minimum 14", http.MethodPut, "/api/v1/security/settings/password", fixed(`{"min_length":14,"history_depth":6}`)},
			{"lockout after 5 for 60 minutes", http.MethodPut, "/api/v1/security/settings/signin", fixed(`{"lockout_threshold":5,"captcha_after":3,"lockout_minutes":60}`)},
			{"idle timeout 10", http.MethodPut, "/api/v1/security/settings/session", fixed(`{"idle_timeout_minutes":10}`)},
			{"MFA grace 2", http.MethodPut, "/api/v1/security/settings/mfa", fixed(`{"grace_sign_ins":2}`)},
			{"transcript e-mail off", http.MethodPut, "/api/v1/chat/sites/" + site.ID + "/settings", func() string { return siteSettings(false) }},
		} {
			if rec := c.Do(ok.method, ok.path, ok.body()); rec.Code != http.StatusOK {
				t.Errorf("%s under both: %d %s, want 200", ok.name, rec.Code, rec.Body)
			}
		}

		// Turning a framework off needs a reason; the change is audited with it.
		rec := c.Do(http.MethodPut, "/api/v1/compliance-mode", `{"pci":false,"hipaa":true}`)
		if code, field := accounttest.ErrorOf(t, rec); rec.Code != http.StatusUnprocessableEntity || code != "reason_required" || field != "reason" {
			t.Fatalf("off without a reason: %d %s", rec.Code, rec.Body)
		}
		rec = c.Do(http.MethodPut, "/api/v1/compliance-mode", `{"pci":false,"hipaa":false,"reason":"migration to the new tenant"}`)
		body := accounttest.Decode[compliancehttp.Body](t, rec)
		if rec.Code != http.StatusOK || body.Mode != "none" || body.Reason != "migration to the new tenant" || body.UpdatedBy != owner.ID {
			t.Fatalf("off: %d %s", rec.Code, rec.Body)
		}
		evs := a.AuditEvents(org.ID, audit.ActionComplianceMode)
		last := evs[len(evs)-1]
		if last.Reason != "migration to the new tenant" || last.Details["turned_off"] != "pci,hipaa" || last.Details["mode"] != "none" || last.Actor.ID != owner.ID {
			t.Errorf("audit of the change: %+v", last.Event)
		}
		if rec := c.Do(http.MethodPut, "/api/v1/compliance-mode", `{"pci":false}`); rec.Code != http.StatusBadRequest {
			t.Errorf("half a mode: %d", rec.Code)
		}
		long := strings.Repeat("x", mode.MaxReason+1)
		for _, bad := range []string{long, `line\u0000break`, `bell\u0007`} {
			if rec := c.Do(http.MethodPut, "/api/v1/compliance-mode", `{"pci":true,"hipaa":false,"reason":"`+bad+`"}`); rec.Code != http.StatusBadRequest {
				t.Errorf("reason %.20q: %d", bad, rec.Code)
			}
		}
		// A card number in the reason is masked at rest (the audit log masks it too).
		c.Do(http.MethodPut, "/api/v1/compliance-mode", `{"pci":true,"hipaa":false}`)
		rec = c.Do(http.MethodPut, "/api/v1/compliance-mode", `{"pci":false,"hipaa":false,"reason":"card 4111 1111 1111 1111 pasted"}`)
		if body := rec.Body.String(); rec.Code != http.StatusOK || strings.Contains(body, "4111 1111 1111 1111") || !strings.Contains(body, "1111") {
			t.Errorf("card number in the reason: %d %s", rec.Code, body)
		}

		// With the mode off, the same weakening is the organisation's choice.
		customShort := request{"custom password policy, minimum 10", http.MethodPut, "/api/v1/security/settings/password", fixed(`{"profile":"custom","min_length":10}`)}
		for _, r := range []request{mfaOff, customShort, idle, email} {
			if rec := c.Do(r.method, r.path, r.body()); rec.Code != http.StatusOK {
				t.Errorf("%s with the mode off: %d %s", r.name, rec.Code, rec.Body)
			}
		}

		// An agent reads neither the mode nor its page; the console page offers the form to the owner.
		a.CreateUser("Acme Bank", "agent@acme.test", testPassword, "agent", false)
		agent := a.Client("198.51.100.8:1000").SignIn(org.Slug, "agent@acme.test", testPassword)
		if rec := agent.Do(http.MethodGet, "/api/v1/compliance-mode", ""); rec.Code != http.StatusForbidden {
			t.Errorf("agent: %d", rec.Code)
		}
		rec = c.Do(http.MethodGet, "/compliance-mode", "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `action="/compliance-mode"`) || !strings.Contains(rec.Body.String(), `href="/compliance-mode"`) {
			t.Errorf("page: %d", rec.Code)
		}
	})
}

// accountRefusal is the account service's refusal event (recorded through its auditor).
const accountRefusal = "compliance.mode.refusal"

// TestModeForm: the console form turns PCI DSS on, refuses to turn it off without a reason (the
// page shows why), and a settings form refused by the mode shows the control on the security page.
func TestModeForm(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		org, _ := a.CreateUser("Acme Bank", "owner@acme.test", testPassword, "owner", false)
		c := a.Client("198.51.100.7:1000").SignIn(org.Slug, "owner@acme.test", testPassword)
		rec := c.PostForm("/compliance-mode", url.Values{"pci": {"on"}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/compliance-mode?notice=saved" {
			t.Fatalf("turn on: %d %s", rec.Code, rec.Body)
		}
		rec = c.PostForm("/compliance-mode", url.Values{})
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Give a reason") {
			t.Fatalf("off without reason: %d", rec.Code)
		}
		rec = c.PostForm("/security/mfa", url.Values{"grace_sign_ins": {"3"}})
		if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "PCI DSS 8.4.1-8.4.3") || !strings.Contains(rec.Body.String(), `role="alert"`) {
			t.Fatalf("MFA form under PCI: %d %s", rec.Code, rec.Body)
		}
	})
}

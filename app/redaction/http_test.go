package redaction_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/compliance/redact"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestRedactionAPI(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		rec := h.owner.Do(http.MethodGet, "/api/v1/redaction", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET: %d %s", rec.Code, rec.Body)
		}
		got := accounttest.Decode[struct {
			Mode  string           `json:"pan_mask_mode"`
			Rules []redaction.Rule `json:"rules"`
		}](t, rec)
		if got.Mode != "bin_last4" || len(got.Rules) != 2 || !got.Rules[0].Builtin {
			t.Fatalf("GET = %+v", got)
		}

		steps := []struct {
			name         string
			method, path string
			body         string
			status       int
			code         string
		}{
			{"create", http.MethodPost, "/api/v1/redaction/rules", `{"name":"Policy number","pattern":"\\bPOL-[0-9]{8}\\b","replacement":"[policy]","enabled":true}`, http.StatusCreated, ""},
			{"duplicate", http.MethodPost, "/api/v1/redaction/rules", `{"name":"policy NUMBER","pattern":"x+"}`, http.StatusConflict, "rule_exists"},
			{"invalid pattern", http.MethodPost, "/api/v1/redaction/rules", `{"name":"bad","pattern":"(["}`, http.StatusBadRequest, "invalid_rule"},
			{"unknown field", http.MethodPost, "/api/v1/redaction/rules", `{"name":"x","pattern":"x","flags":"i"}`, http.StatusBadRequest, "invalid_request"},
			{"card number as name", http.MethodPost, "/api/v1/redaction/rules", `{"name":"card 4111 1111 1111 1111","pattern":"x+"}`, http.StatusBadRequest, "card_number_not_allowed"},
			{"card number in pattern", http.MethodPost, "/api/v1/redaction/rules", `{"name":"card","pattern":"5500[ -]?0000[ -]?0000[ -]?0004"}`, http.StatusBadRequest, "card_number_not_allowed"},
			{"card number in replacement", http.MethodPost, "/api/v1/redaction/rules", `{"name":"card","pattern":"x+","replacement":"6011000000000004"}`, http.StatusBadRequest, "card_number_not_allowed"},
			{"card number in built-in replacement", http.MethodPut, "/api/v1/redaction/rules/us_ssn", `{"replacement":"3400-0000-0000-009","enabled":true}`, http.StatusBadRequest, "card_number_not_allowed"},
			{"enable ssn", http.MethodPut, "/api/v1/redaction/rules/us_ssn", `{"replacement":"[SSN]","enabled":true}`, http.StatusOK, ""},
			{"built-in pattern", http.MethodPut, "/api/v1/redaction/rules/iban", `{"pattern":"[A-Z]+","enabled":true}`, http.StatusConflict, "builtin_rule"},
			{"delete built-in", http.MethodDelete, "/api/v1/redaction/rules/iban", "", http.StatusConflict, "builtin_rule"},
			{"unknown rule", http.MethodPut, "/api/v1/redaction/rules/nope", `{"name":"n","pattern":"n"}`, http.StatusNotFound, "not_found"},
			{"mode", http.MethodPut, "/api/v1/redaction/pan-mask-mode", `{"mode":"last4"}`, http.StatusOK, ""},
			{"bad mode", http.MethodPut, "/api/v1/redaction/pan-mask-mode", `{"mode":"none"}`, http.StatusBadRequest, "invalid_request"},
			{"sample too large", http.MethodPost, "/api/v1/redaction/try", `{"rule":{"name":"x","pattern":"x"},"sample":"` + strings.Repeat("a", redact.MaxSampleLen+1) + `"}`, http.StatusBadRequest, "sample_too_large"},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				rec := h.owner.Do(s.method, s.path, s.body)
				if rec.Code != s.status {
					t.Fatalf("status %d, want %d; body %s", rec.Code, s.status, rec.Body)
				}
				if s.code != "" && errorCode(t, rec) != s.code {
					t.Errorf("code %q, want %q", errorCode(t, rec), s.code)
				}
			})
		}
		if mode, _ := h.a.RedactionPolicies.MaskMode(t.Context(), h.tenant.ID); mode != pan.ModeLast4 {
			t.Errorf("the chat path's mode = %v after the API changed it, want last4", mode)
		}

		// Test your rule: card numbers are masked first, then the rule applies; nothing stored.
		rec = h.owner.Do(http.MethodPost, "/api/v1/redaction/try",
			`{"rule":{"name":"Policy","pattern":"\\bPOL-[0-9]{8}\\b","replacement":"[policy]"},"sample":"POL-12345678 paid with 4111 1111 1111 1111"}`)
		if rec.Code != http.StatusOK {
			t.Fatalf("try: %d %s", rec.Code, rec.Body)
		}
		trial := accounttest.Decode[redact.Trial](t, rec)
		if trial.Output != "[policy] paid with •••• •••• •••• 1111" || trial.Replaced != 1 || len(trial.Matches) != 1 {
			t.Errorf("trial = %+v", trial)
		}
		if strings.Contains(rec.Body.String(), "4111 1111") {
			t.Error("the trial echoes a card number")
		}

		// An agent holds neither security.view nor security.manage.
		for _, r := range []apptest.Request{
			{Method: http.MethodGet, Path: "/api/v1/redaction"},
			{Method: http.MethodPost, Path: "/api/v1/redaction/try", Body: `{"rule":{"name":"x","pattern":"x"},"sample":"x"}`},
			{Method: http.MethodPost, Path: "/api/v1/redaction/rules", Body: `{"name":"x","pattern":"x"}`},
			{Method: http.MethodGet, Path: "/redaction"},
		} {
			if rec := h.agent.DoRequest(r); rec.Code != http.StatusForbidden {
				t.Errorf("agent %s %s: %d, want 403", r.Method, r.Path, rec.Code)
			}
		}
	})
}

func TestRedactionPage(t *testing.T) {
	h := newHarness(t, migratetest.Open(t, migrations.SQLite))
	form := func(path string, v url.Values) apptest.Request {
		v.Set("csrf_token", h.owner.CSRF)
		return apptest.Request{Method: http.MethodPost, Path: path, Body: v.Encode(), ContentType: echo.MIMEApplicationForm,
			Header: http.Header{"X-Csrf-Token": {""}}}
	}
	rec := h.owner.Do(http.MethodGet, "/redaction", "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Test your rule") || !strings.Contains(rec.Body.String(), h.owner.CSRF) {
		t.Fatalf("page: %d", rec.Code)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	rec = h.owner.DoRequest(form("/redaction/try", url.Values{"pattern": {`\bEMP-\d{6}\b`}, "replacement": {"[staff]"},
		"sample": {"EMP-123456 wrote <script>alert(1)</script> and 4111111111111111"}}))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "[staff] wrote &lt;script&gt;alert(1)&lt;/script&gt; and 411111••••••1111") {
		t.Errorf("try form: %d\n%s", rec.Code, body)
	}
	if strings.Contains(body, "4111111111111111") || strings.Contains(body, "<script>alert") {
		t.Error("the page echoes the sample unsafely")
	}
	rec = h.owner.DoRequest(form("/redaction/try", url.Values{"pattern": {`(`}, "sample": {"x"}}))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "role=\"alert\"") {
		t.Errorf("invalid try: %d", rec.Code)
	}
	rec = h.owner.DoRequest(form("/redaction/rules", url.Values{"name": {"Staff"}, "pattern": {`\bEMP-\d{6}\b`}, "replacement": {"[staff]"}, "enabled": {"on"}}))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create form: %d %s", rec.Code, rec.Body)
	}
	rules, _ := h.a.Redaction.Rules(t.Context(), h.tenant.ID)
	if len(rules) != 3 || !rules[2].Enabled {
		t.Fatalf("rules after the form = %+v", rules)
	}
	rec = h.owner.DoRequest(form("/redaction/rules/"+rules[2].ID, url.Values{"name": {"Staff"}, "pattern": {`\bEMP-\d{6}\b`}, "replacement": {"[x]"}}))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("update form: %d %s", rec.Code, rec.Body)
	}
	rec = h.owner.DoRequest(form("/redaction/rules/us_ssn", url.Values{"replacement": {"[SSN]"}, "enabled": {"on"}, "name": {"us_ssn"}, "pattern": {rules[0].Pattern}, "validator": {"us_ssn"}}))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("enable built-in form: %d %s", rec.Code, rec.Body)
	}
	rec = h.owner.DoRequest(form("/redaction/rules/"+rules[2].ID+"/delete", url.Values{}))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("delete form: %d", rec.Code)
	}
	rec = h.owner.DoRequest(form("/redaction/pan-mask-mode", url.Values{"mode": {"last4"}}))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("mode form: %d", rec.Code)
	}
	rules, _ = h.a.Redaction.Rules(t.Context(), h.tenant.ID)
	if len(rules) != 2 || !rules[0].Enabled {
		t.Errorf("rules after the forms = %+v", rules)
	}
	rec = h.owner.Do(http.MethodGet, "/redaction?notice=mode_changed", "")
	if !strings.Contains(rec.Body.String(), "The card number masking mode was changed.") || !strings.Contains(rec.Body.String(), "the last four digits only") {
		t.Error("the page does not show the change")
	}
	// Without the CSRF token the form is refused.
	rec = h.owner.DoRequest(apptest.Request{Method: http.MethodPost, Path: "/redaction/pan-mask-mode", Body: "mode=bin_last4",
		ContentType: echo.MIMEApplicationForm, Header: http.Header{"X-Csrf-Token": {"wrong"}}})
	if rec.Code != http.StatusForbidden {
		t.Errorf("form without CSRF: %d, want 403", rec.Code)
	}
}

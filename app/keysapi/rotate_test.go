package keysapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestRotateAPI(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		start := h.version(h.Tenant.ID)
		otherStart := h.version(h.Other.ID)
		cases := []struct {
			name   string
			body   string
			status int
			code   string
			field  string
			// rotates is how many versions the request adds.
			rotates int
		}{
			{name: "no body", body: "", status: http.StatusOK, rotates: 1},
			{name: "empty object", body: "{}", status: http.StatusOK, rotates: 1},
			{name: "expected version", body: `{"expected_latest_version":` + strconv.Itoa(start+2) + `}`, status: http.StatusOK, rotates: 1},
			{name: "retried with the same expected version", body: `{"expected_latest_version":` + strconv.Itoa(start+2) + `}`, status: http.StatusConflict, code: "key_version_changed", field: "expected_latest_version"},
			{name: "expected version zero", body: `{"expected_latest_version":0}`, status: http.StatusBadRequest, code: "invalid_request", field: "expected_latest_version"},
			{name: "unknown field", body: `{"version":9}`, status: http.StatusBadRequest, code: "invalid_request", field: "version"},
			{name: "not JSON", body: `rotate`, status: http.StatusBadRequest, code: "invalid_json"},
		}
		want := start
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := len(h.AuditEvents(h.Tenant.ID, audit.ActionKeyRotate))
				rec := h.Owner.Do(http.MethodPost, "/api/v1/keys/rotate", tc.body)
				if rec.Code != tc.status {
					t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.status, rec.Body)
				}
				if tc.code != "" {
					if code, field := accounttest.ErrorOf(t, rec); code != tc.code || field != tc.field {
						t.Errorf("error = %s on %q, want %s on %q", code, field, tc.code, tc.field)
					}
				}
				want += tc.rotates
				if got := h.version(h.Tenant.ID); got != want {
					t.Errorf("key version = %d, want %d", got, want)
				}
				evs := h.AuditEvents(h.Tenant.ID, audit.ActionKeyRotate)
				if got := len(evs) - before; got != tc.rotates {
					t.Fatalf("key.rotate records = %d, want %d", got, tc.rotates)
				}
				if tc.rotates == 0 {
					return
				}
				var res struct {
					Previous int `json:"previous_version"`
					Key      struct {
						Latest int `json:"latest_version"`
					} `json:"key"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || res.Previous != want-1 || res.Key.Latest != want {
					t.Errorf("answer = %+v (%v), want %d → %d", res, err, want-1, want)
				}
				ev := evs[len(evs)-1]
				if ev.Actor.ID != h.OwnerID || ev.Actor.Kind != audit.ActorUser || ev.Outcome != audit.Success ||
					ev.Target.ID != h.Tenant.ID || ev.Details["latest_version"] != strconv.Itoa(want) ||
					ev.Details["previous_version"] != strconv.Itoa(want-1) || ev.RequestID == "" {
					t.Errorf("audit record = %+v", ev.Event)
				}
			})
		}
		if got := h.version(h.Other.ID); got != otherStart {
			t.Errorf("the other tenant's key moved to version %d", got)
		}
		// keys.manage only: an agent is refused, and nothing rotates.
		for _, r := range []struct{ method, path, body string }{
			{http.MethodPost, "/api/v1/keys/rotate", "{}"},
			{http.MethodGet, "/keys", ""},
			{http.MethodPost, "/keys/rotate", url.Values{"confirm": {"ROTATE"}, "expected_latest_version": {strconv.Itoa(want)}}.Encode()},
		} {
			var code int
			if strings.HasPrefix(r.path, "/api/") || r.method == http.MethodGet {
				code = h.Agent.Do(r.method, r.path, r.body).Code
			} else {
				v, _ := url.ParseQuery(r.body)
				code = form(h.Agent, r.path, v).Code
			}
			if code != http.StatusForbidden {
				t.Errorf("agent %s %s = %d, want 403", r.method, r.path, code)
			}
		}
		if got := h.version(h.Tenant.ID); got != want {
			t.Errorf("key version after refused requests = %d, want %d", got, want)
		}
	})
}

func TestKeysPage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		rec := h.Owner.Do(http.MethodGet, "/keys", "")
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("page = %d %s", rec.Code, body)
		}
		v := h.version(h.Tenant.ID)
		for _, want := range []string{"not for production", "<code>local-dev</code>", "Minimum decryption version", h.Owner.CSRF,
			`name="expected_latest_version" value="` + strconv.Itoa(v) + `"`, "parley keys set-min-version",
			`href="/static/ops.css"`, `<a href="/keys" aria-current="page">`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if strings.Contains(body, `action="/keys/min-version"`) {
			t.Error("the page offers to raise the minimum decryption version")
		}
		cases := []struct {
			name     string
			confirm  string
			expected string
			status   int
			contains string
			rotates  int
		}{
			{name: "no confirmation", confirm: "", expected: strconv.Itoa(v), status: http.StatusUnprocessableEntity, contains: `id="confirm-error"`},
			{name: "wrong word", confirm: "rotate", expected: strconv.Itoa(v), status: http.StatusUnprocessableEntity, contains: "Type ROTATE to confirm"},
			{name: "no version", confirm: "ROTATE", expected: "", status: http.StatusUnprocessableEntity, contains: "out of date"},
			{name: "confirmed", confirm: "ROTATE", expected: strconv.Itoa(v), status: http.StatusSeeOther, rotates: 1},
			{name: "double submit", confirm: "ROTATE", expected: strconv.Itoa(v), status: http.StatusConflict, contains: "rotated since you loaded"},
		}
		want := v
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := len(h.AuditEvents(h.Tenant.ID, audit.ActionKeyRotate))
				rec := form(h.Owner, "/keys/rotate", url.Values{"confirm": {tc.confirm}, "expected_latest_version": {tc.expected}})
				if rec.Code != tc.status {
					t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.status, rec.Body)
				}
				if tc.contains != "" && !strings.Contains(rec.Body.String(), tc.contains) {
					t.Errorf("page lacks %q", tc.contains)
				}
				if tc.status == http.StatusSeeOther && rec.Header().Get("Location") != "/keys?notice=rotated" {
					t.Errorf("redirect to %q", rec.Header().Get("Location"))
				}
				want += tc.rotates
				if got := h.version(h.Tenant.ID); got != want {
					t.Errorf("key version = %d, want %d", got, want)
				}
				if got := len(h.AuditEvents(h.Tenant.ID, audit.ActionKeyRotate)) - before; got != tc.rotates {
					t.Errorf("key.rotate records = %d, want %d", got, tc.rotates)
				}
			})
		}
		rec = h.Owner.Do(http.MethodGet, "/keys?notice=rotated", "")
		if body := rec.Body.String(); !strings.Contains(body, "The key was rotated.") || !strings.Contains(body, "ago)") {
			t.Errorf("page after rotation lacks the notice or the rotation's age")
		}
		if rec := h.Owner.Do(http.MethodGet, "/keys?notice=%3Cscript%3E", ""); strings.Contains(rec.Body.String(), "<script>") {
			t.Error("the page reflects the notice parameter")
		}
	})
}

package apptest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/apptest"
)

// recordingT keeps what the OpenAPI check reports instead of failing the test.
type recordingT struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingT) Helper() {}

func (r *recordingT) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Keep the finding, not the body quoted after it.
	msg, _, _ := strings.Cut(fmt.Sprintf(format, args...), "\nbody:")
	r.errs = append(r.errs, msg)
}

const validUser = `{"id":"0b8f2a64-1a39-4a8e-9d1a-2f0d8d5f3a10","tenant_id":"5c1d8e3a-7f2b-4c6d-9e0a-1b2c3d4e5f60",` +
	`"email":"ana@example.test","display_name":"Ana","status":"active","roles":["admin"],"mfa_enabled":true,` +
	`"must_change_password":false,"password_changed_at":null,"password_expires_at":null,"last_sign_in_at":null,` +
	`"last_sign_in_ip":"","previous_sign_in_at":null,"previous_sign_in_ip":"","locked_until":null,` +
	`"failed_sign_ins":0,"lifetime_failed_sign_ins":0,"created_at":"2026-01-05T09:00:00Z"}`

// TestCheckOpenAPI: the check passes an answer the document describes and reports one it does not.
func TestCheckOpenAPI(t *testing.T) {
	cases := []struct {
		name, method, path string
		status             int
		contentType, body  string
		want               string // a substring of the report; "" for none
	}{
		{"documented answer", http.MethodGet, "/api/v1/account", 200, "application/json", validUser, ""},
		{"wrong type", http.MethodGet, "/api/v1/account", 200, "application/json", strings.Replace(validUser, `"mfa_enabled":true`, `"mfa_enabled":"yes"`, 1), "mfa_enabled"},
		{"missing field", http.MethodGet, "/api/v1/account", 200, "application/json", strings.Replace(validUser, `"status":"active",`, ``, 1), "status"},
		{"value outside the enum", http.MethodGet, "/api/v1/account", 200, "application/json", strings.Replace(validUser, `"status":"active"`, `"status":"asleep"`, 1), "status"},
		{"undocumented field", http.MethodGet, "/api/v1/account", 200, "application/json", strings.Replace(validUser, `{`, `{"secret":"x",`, 1), "secret"},
		{"bad date-time", http.MethodGet, "/api/v1/account", 200, "application/json", strings.Replace(validUser, `"2026-01-05T09:00:00Z"`, `"yesterday"`, 1), "created_at"},
		{"error body", http.MethodGet, "/api/v1/account", 404, "application/json", `{"error":{"code":"not_found","message":"Not found.","request_id":"r1"}}`, ""},
		{"error not in the common body", http.MethodGet, "/api/v1/account", 404, "application/json", `{"error":"not found"}`, "404"},
		{"no content as documented", http.MethodDelete, "/api/v1/account/sessions/s1", 204, "", "", ""},
		{"a body where none is documented", http.MethodDelete, "/api/v1/account/sessions/s1", 204, "application/json", `{}`, "has a body"},
		{"undocumented content type", http.MethodGet, "/api/v1/auth/captcha/c1/image", 200, "image/jpeg", "jpeg", "content type"},
		{"documented binary", http.MethodGet, "/api/v1/auth/captcha/c1/image", 200, "image/png", "png", ""},
		{"not an API route", http.MethodGet, "/login", 200, "text/html", "<p>", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := &recordingT{TB: t}
			e := echo.New()
			e.Add(tc.method, echoPath(tc.path), func(c echo.Context) error {
				if tc.contentType != "" {
					c.Response().Header().Set(echo.HeaderContentType, tc.contentType)
				}
				c.Response().WriteHeader(tc.status)
				_, err := c.Response().Write([]byte(tc.body))
				return err
			})
			apptest.CheckOpenAPI(rt, e)
			apptest.Serve(e, apptest.Request{Method: tc.method, Path: tc.path})
			got := strings.Join(rt.errs, "\n")
			switch {
			case tc.want == "" && got != "":
				t.Errorf("reported %q, want nothing", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("reported %q, want a report naming %q", got, tc.want)
			}
		})
	}
}

// echoPath turns the test's concrete path into a route (the last segment of a session or
// captcha path is a parameter).
func echoPath(p string) string {
	switch {
	case strings.HasPrefix(p, "/api/v1/account/sessions/"):
		return "/api/v1/account/sessions/:id"
	case strings.HasPrefix(p, "/api/v1/auth/captcha/"):
		return "/api/v1/auth/captcha/:id/image"
	}
	return p
}

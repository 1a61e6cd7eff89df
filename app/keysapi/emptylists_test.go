package keysapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/keysapi"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/vault"
)

// fixedTools answers every status with one report and every rotation with one key status.
type fixedTools struct {
	report vault.TenantKeyReport
}

func (f fixedTools) Status(context.Context, string) (vault.TenantKeyReport, error) {
	return f.report, nil
}

func (f fixedTools) Rotate(context.Context, string) (vault.KeyStatus, error) {
	return f.report.Key, nil
}

// nopRecorder accepts every audit event.
type nopRecorder struct{}

func (nopRecorder) Record(context.Context, audit.Event) error { return nil }

// TestKeyStatusEmptyLists: a provider that reports no versions and a tenant with no wrapped data
// keys answer [] and {}, never null (the OpenAPI check holds the answers to the document too).
func TestKeyStatusEmptyLists(t *testing.T) {
	const tenantID = "0b6f0b8e-3c1a-4d8e-9a57-0f3c2d1e4b5a"
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		method string
		path   string
		report vault.TenantKeyReport
		want   []string
	}{
		{
			name: "status with nil versions and nil counts", method: http.MethodGet, path: "/api/v1/keys/status",
			report: vault.TenantKeyReport{TenantID: tenantID, Provider: "local-dev", Key: vault.KeyStatus{Name: "k", Type: "aes256-gcm96"}, CheckedAt: at},
			want:   []string{`"versions":[]`, `"wrapped_by_version":{}`},
		},
		{
			name: "status with empty versions and counts", method: http.MethodGet, path: "/api/v1/keys/status",
			report: vault.TenantKeyReport{TenantID: tenantID, Provider: "local-dev", Key: vault.KeyStatus{Name: "k", Type: "aes256-gcm96", Versions: []vault.KeyVersion{}},
				WrappedByVersion: map[int]int{}, CheckedAt: at},
			want: []string{`"versions":[]`, `"wrapped_by_version":{}`},
		},
		{
			name: "rotation with nil versions", method: http.MethodPost, path: "/api/v1/keys/rotate",
			report: vault.TenantKeyReport{TenantID: tenantID, Provider: "local-dev", Key: vault.KeyStatus{Name: "k", Type: "aes256-gcm96", LatestVersion: 1, MinDecryptionVersion: 1}, CheckedAt: at},
			want:   []string{`"versions":[]`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &keysapi.Module{Keys: fixedTools{report: tc.report}, Audit: nopRecorder{}}
			e := echo.New()
			e.HTTPErrorHandler = func(err error, c echo.Context) { t.Errorf("%s %s: %v", c.Request().Method, c.Path(), err) }
			apptest.CheckOpenAPI(t, e)
			signedIn := func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error {
					api.SetPrincipal(c, &api.Principal{TenantID: tenantID, UserID: "5d0c1c2e-8f0a-4b7e-9d6c-3a2b1c0d9e8f"})
					return next(c)
				}
			}
			for _, r := range m.Routes() {
				if r.API {
					e.Add(r.Method, r.Path, r.Handler, signedIn)
				}
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("%s %s = %d %s, want 200", tc.method, tc.path, rec.Code, rec.Body)
			}
			for _, want := range tc.want {
				if !strings.Contains(rec.Body.String(), want) {
					t.Errorf("body lacks %s: %s", want, rec.Body)
				}
			}
		})
	}
}

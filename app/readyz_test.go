package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestReadyzDetails: /readyz tells anyone only ready or unavailable (200 or 503); the per-check
// results — the database dialect, the key provider's kind, the audit alerts — need the metrics
// bearer token, and nobody sees them when no token is configured.
func TestReadyzDetails(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		withToken := apptest.New(t, db, map[string]string{"PARLEY_METRICS_TOKEN": metricsToken})
		withoutToken := apptest.New(t, db, nil)
		tests := []struct {
			name    string
			app     *apptest.App
			auth    string
			details bool
		}{
			{name: "anyone", app: withToken},
			{name: "wrong token", app: withToken, auth: "Bearer " + strings.Repeat("x", len(metricsToken))},
			{name: "token as basic", app: withToken, auth: "Basic " + metricsToken},
			{name: "metrics token", app: withToken, auth: "Bearer " + metricsToken, details: true},
			{name: "no token configured", app: withoutToken, auth: "Bearer " + metricsToken},
			{name: "no token configured, none sent", app: withoutToken},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := http.Header{}
				if tt.auth != "" {
					h.Set("Authorization", tt.auth)
				}
				rec := tt.app.Do(apptest.Request{Method: http.MethodGet, Path: "/readyz", Header: h})
				if rec.Code != http.StatusOK {
					t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
				}
				var body map[string]json.RawMessage
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatal(err)
				}
				if string(body["status"]) != `"ready"` {
					t.Errorf("status = %s, want \"ready\"", body["status"])
				}
				_, hasChecks := body["checks"]
				if hasChecks != tt.details {
					t.Errorf("checks shown = %v, want %v; body %s", hasChecks, tt.details, rec.Body)
				}
				leaks := []string{"local-dev", "dialect", "sqlite", "postgres", "provider", "audit_log"}
				for _, leak := range leaks {
					if got := strings.Contains(rec.Body.String(), leak); got && !tt.details {
						t.Errorf("body names %q without the token: %s", leak, rec.Body)
					}
				}
				if tt.details && !strings.Contains(rec.Body.String(), `"dialect"`) {
					t.Errorf("details lack the database dialect: %s", rec.Body)
				}
			})
		}

		// Not ready: 503, still without details for anyone.
		_ = db.Close()
		rec := withToken.Do(apptest.Request{Method: http.MethodGet, Path: "/readyz"})
		if rec.Code != http.StatusServiceUnavailable || strings.TrimSpace(rec.Body.String()) != `{"status":"unavailable"}` {
			t.Errorf("not ready = %d %s, want 503 {\"status\":\"unavailable\"}", rec.Code, rec.Body)
		}
		rec = withToken.Do(apptest.Request{Method: http.MethodGet, Path: "/readyz", Header: http.Header{"Authorization": {"Bearer " + metricsToken}}})
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"database":{"status":"unavailable"`) {
			t.Errorf("not ready with the token = %d %s, want 503 naming the database", rec.Code, rec.Body)
		}
	})
}

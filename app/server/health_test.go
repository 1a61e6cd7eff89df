package server_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/server"
)

func TestReadyzDetailsOnlyWhenAllowed(t *testing.T) {
	allowed := func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer let-me-see" }
	build := func(t *testing.T, fail bool, details func(*http.Request) bool) *server.Server {
		t.Helper()
		s, err := server.New(server.Deps{Config: testConfig(t, nil), Log: slog.New(slog.DiscardHandler), ReadyDetails: details,
			Checks: []server.Check{{Name: "key_provider", Run: func(context.Context) (map[string]any, error) {
				if fail {
					return map[string]any{"provider": "local-dev"}, errors.New("down")
				}
				return map[string]any{"provider": "local-dev"}, nil
			}}}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		fail    bool
		details func(*http.Request) bool
		auth    string
		status  int
		body    string
	}{
		{name: "ready, anyone", details: allowed, status: 200, body: `{"status":"ready"}`},
		{name: "ready, allowed", details: allowed, auth: "Bearer let-me-see", status: 200,
			body: `{"status":"ready","checks":{"key_provider":{"status":"ok","detail":{"provider":"local-dev"}}}}`},
		{name: "not ready, anyone", fail: true, details: allowed, auth: "Bearer guess", status: 503, body: `{"status":"unavailable"}`},
		{name: "not ready, allowed", fail: true, details: allowed, auth: "Bearer let-me-see", status: 503,
			body: `{"status":"unavailable","checks":{"key_provider":{"status":"unavailable","detail":{"provider":"local-dev"}}}}`},
		{name: "no details configured", details: nil, auth: "Bearer let-me-see", status: 200, body: `{"status":"ready"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := build(t, tt.fail, tt.details)
			hdr := map[string]string{}
			if tt.auth != "" {
				hdr["Authorization"] = tt.auth
			}
			rec := do(s, http.MethodGet, "/readyz", "", hdr)
			if rec.Code != tt.status || strings.TrimSpace(rec.Body.String()) != tt.body {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.body)
			}
		})
	}
}

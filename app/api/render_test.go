package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley/app/api"
)

// TestClassifyDatabaseAway: a database that cannot be reached is a 503 the client may retry,
// with the cause kept for the log; any other unknown error stays internal_error.
func TestClassifyDatabaseAway(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		code       string
		keepsCause bool
	}{
		{"shutdown", fmt.Errorf("load site: %w", &pgconn.PgError{Code: "57P01"}), http.StatusServiceUnavailable, "unavailable", true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, http.StatusServiceUnavailable, "unavailable", true},
		{"unknown", errors.New("boom"), http.StatusInternalServerError, "internal_error", true},
		{"an api error stays", api.ErrForbidden, http.StatusForbidden, "forbidden", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := api.Classify(tc.err)
			if got.Status != tc.status || got.Code != tc.code {
				t.Fatalf("Classify = %d %q, want %d %q", got.Status, got.Code, tc.status, tc.code)
			}
			if tc.keepsCause && !errors.Is(got, tc.err) {
				t.Errorf("Classify dropped the cause %v", tc.err)
			}
		})
	}
}

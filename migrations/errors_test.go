package migrations

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsBusy(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("database is locked (5) (SQLITE_BUSY)"), true},
		{fmt.Errorf("read outbox: %w", errors.New("database is locked (517)")), true},
		{errors.New("ERROR: could not serialize access due to concurrent update (SQLSTATE 40001)"), true},
		{errors.New("ERROR: deadlock detected (SQLSTATE 40P01)"), true},
		{errors.New("UNIQUE constraint failed: users.email"), false},
		{errors.New("no such table: audit_outbox"), false},
	} {
		if got := IsBusy(tc.err); got != tc.want {
			t.Errorf("IsBusy(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

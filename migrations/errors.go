package migrations

import (
	"errors"
	"strings"

	"gorm.io/gorm"
)

// IsUniqueViolation reports whether err is a unique-constraint violation, on either dialect.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505") ||
		strings.Contains(msg, "duplicate key value")
}

// IsBusy reports whether err is a transient lock conflict that a retry of the whole transaction
// may resolve: SQLite's "database is locked" (SQLITE_BUSY and its extended codes, returned at once
// in the few cases its busy timeout cannot wait, such as a concurrent WAL reset) and PostgreSQL's
// serialization failure and deadlock.
func IsBusy(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY") ||
		strings.Contains(msg, "SQLSTATE 40001") || strings.Contains(msg, "SQLSTATE 40P01")
}

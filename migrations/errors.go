package migrations

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
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

// IsUnavailable reports whether err says the database could not be reached or went away
// mid-statement, rather than refused the statement: a failed connect, a connection that broke
// (refused, reset, closed), PostgreSQL shutting down, starting up or in recovery (SQLSTATE
// class 08 and 57P01–57P03), or a statement that ran out of time (its context's deadline, or
// 57014 when PostgreSQL cancelled it) on an overloaded database. The caller's work may succeed
// when retried a moment later, so clients are told "unavailable, retry" rather than "internal
// error".
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "57014"
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "failed to connect to") ||
		strings.Contains(msg, "SQLSTATE 57P0") || strings.Contains(msg, "SQLSTATE 08")
}

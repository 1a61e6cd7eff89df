package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/parleyhq/parley/migrations"
)

// sessionRow is what Authenticate reads in one query: the session and the versions of its user
// and of its tenant's security settings.
type sessionRow struct {
	Session         Session
	UserVersion     int64
	SecurityVersion int64
}

// sessionQuery is Authenticate's query and where its columns go: every column the Session model
// maps, in model order, then the two versions. Nothing else is read: on SQLite each selected
// column or subquery costs about as much to compile as it takes to run, and the user, their roles
// and the tenant's settings come from the caches by version.
type sessionQuery struct {
	sql     string
	session []*schema.Field
}

// authQuery returns the session query, built once from the Session model.
func (s *Service) authQuery() (*sessionQuery, error) {
	s.authSQLOnce.Do(func() {
		s.authSQL, s.authSQLErr = buildSessionQuery(s.db(), s.DB.Dialect)
	})
	return s.authSQL, s.authSQLErr
}

func buildSessionQuery(db *gorm.DB, d migrations.Dialect) (*sessionQuery, error) {
	stmt := &gorm.Statement{DB: db}
	if err := stmt.Parse(&Session{}); err != nil {
		return nil, fmt.Errorf("session query: %w", err)
	}
	var (
		fields []*schema.Field
		cols   []string
	)
	for _, f := range stmt.Schema.Fields {
		if f.DBName != "" {
			fields = append(fields, f)
			cols = append(cols, "s."+f.DBName)
		}
	}
	param := "?"
	if d == migrations.Postgres {
		param = "$1"
	}
	q := "SELECT " + strings.Join(cols, ", ") + ", u.version, COALESCE(v.version, 0) " +
		"FROM sessions s JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id " +
		"LEFT JOIN security_versions v ON v.tenant_id = s.tenant_id " +
		"WHERE s.token_hash = " + param
	return &sessionQuery{sql: q, session: fields}, nil
}

// readSession runs the session query for a token hash; ErrNoSession when no session of an
// existing user has it.
func (s *Service) readSession(ctx context.Context, tokenHash string) (sessionRow, error) {
	ctx = migrations.AcrossTenants(ctx) // resolution: which tenant a session token belongs to
	q, err := s.authQuery()
	if err != nil {
		return sessionRow{}, err
	}
	var row sessionRow
	v := reflect.ValueOf(&row.Session).Elem()
	dest := make([]any, 0, len(q.session)+2)
	for _, f := range q.session {
		dest = append(dest, f.ReflectValueOf(ctx, v).Addr().Interface())
	}
	dest = append(dest, &row.UserVersion, &row.SecurityVersion)
	// Straight to database/sql: the query is fixed, and GORM would rescan its text every time.
	db, err := s.DB.SQL()
	if err != nil {
		return sessionRow{}, err
	}
	err = db.QueryRowContext(ctx, q.sql, tokenHash).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return sessionRow{}, ErrNoSession
	}
	if err != nil {
		return sessionRow{}, err
	}
	return row, nil
}

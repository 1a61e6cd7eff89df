package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL dialect of a database Parley stores its data in.
type Dialect string

// The dialects Parley supports.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Errors returned by Open and ParseURL.
var (
	// ErrUnknownScheme means the database URL is neither postgres:// nor sqlite://.
	ErrUnknownScheme = errors.New("database URL must start with postgres://, postgresql:// or sqlite://")
	// ErrEmptyPath means a sqlite:// URL carried no file path.
	ErrEmptyPath = errors.New("sqlite:// URL needs a file path, e.g. sqlite:///var/lib/parley/parley.db")
)

// Location is a parsed database URL.
type Location struct {
	Dialect Dialect
	// DSN is what the driver receives: the postgres URL as given, or the SQLite file path with
	// Parley's pragmas.
	DSN string
	// Path is the SQLite file; empty for Postgres.
	Path string
}

// ParseURL checks a database URL (postgres://… or sqlite:///path) and returns where it points.
func ParseURL(raw string) (Location, error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return Location{}, errors.New("database URL is not a valid postgres:// URL")
		}
		return Location{Dialect: Postgres, DSN: raw}, nil
	case strings.HasPrefix(raw, "sqlite://"):
		rest := strings.TrimPrefix(raw, "sqlite://")
		path, query, _ := strings.Cut(rest, "?")
		if path == "" {
			return Location{}, ErrEmptyPath
		}
		if query != "" {
			return Location{}, errors.New("sqlite:// URL takes no options; Parley sets WAL, foreign keys and a busy timeout itself")
		}
		return Location{Dialect: SQLite, Path: path, DSN: sqliteDSN(path)}, nil
	default:
		return Location{}, ErrUnknownScheme
	}
}

// sqliteDSN returns the driver DSN for an SQLite file: write-ahead log, enforced foreign keys, a
// busy timeout so concurrent writers wait instead of failing, and secure_delete so a deleted row
// (a session, an expired visitor) leaves no bytes behind in a freed page. Transactions begin
// IMMEDIATE through the connector (sqlite_driver.go), so a read-then-write transaction waits for
// the write lock at its start instead of failing on lock upgrade.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=secure_delete(ON)&_time_format=sqlite"
}

// DB is an open Parley database: the GORM handle stores use and the dialect they may branch on.
type DB struct {
	Gorm    *gorm.DB
	Dialect Dialect
}

// SQL returns the database/sql handle under the GORM one.
func (d *DB) SQL() (*sql.DB, error) { return d.Gorm.DB() }

// Close closes the connection pool.
func (d *DB) Close() error {
	s, err := d.Gorm.DB()
	if err != nil {
		return err
	}
	return s.Close()
}

// Ping checks that the database answers; readiness uses it.
func (d *DB) Ping(ctx context.Context) error {
	s, err := d.Gorm.DB()
	if err != nil {
		return err
	}
	return s.PingContext(ctx)
}

// Options tune Open.
type Options struct {
	// Logger receives slow-query and error reports; SQL text is logged without parameters.
	Logger *slog.Logger
	// MaxOpenConns bounds the Postgres pool (default 20). SQLite always uses one writer pool.
	MaxOpenConns int
	// Unbound says the connection's role is not bound by row-level security (a superuser looking
	// beneath it, in tests): its unscoped statements are neither reported nor refused.
	Unbound bool
}

// Open connects to the database a URL names. SQLite files and their folder are created with
// owner-only permissions.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	loc, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return OpenLocation(ctx, loc, opts)
}

// OpenLocation connects to a parsed database location.
func OpenLocation(ctx context.Context, loc Location, opts Options) (*DB, error) {
	cfg := &gorm.Config{
		Logger:                                   newGormLogger(opts.Logger),
		PrepareStmt:                              false,
		SkipDefaultTransaction:                   true,
		DisableForeignKeyConstraintWhenMigrating: true,
		NowFunc:                                  func() time.Time { return time.Now().UTC() },
	}
	var dialector gorm.Dialector
	switch loc.Dialect {
	case Postgres:
		pool, err := openPostgres(loc.DSN, opts.Logger, opts.Unbound)
		if err != nil {
			return nil, err
		}
		dialector = postgres.New(postgres.Config{DSN: loc.DSN, Conn: pool})
	case SQLite:
		if dir := filepath.Dir(loc.Path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database folder: %w", err)
			}
		}
		pool, err := openSQLite(loc.DSN)
		if err != nil {
			return nil, err
		}
		dialector = &sqlite.Dialector{DSN: loc.DSN, Conn: pool}
	default:
		return nil, ErrUnknownScheme
	}
	g, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", loc.Dialect, err)
	}
	if err := registerCardGuard(g); err != nil {
		return nil, fmt.Errorf("card guard: %w", err)
	}
	s, err := g.DB()
	if err != nil {
		return nil, err
	}
	switch loc.Dialect {
	case Postgres:
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 20
		}
		s.SetMaxOpenConns(n)
		s.SetMaxIdleConns(n)
		s.SetConnMaxIdleTime(5 * time.Minute)
	case SQLite:
		// WAL allows concurrent readers; the busy timeout serialises writers.
		s.SetMaxOpenConns(8)
		s.SetMaxIdleConns(8)
		if loc.Path != "" {
			if f, err := os.OpenFile(loc.Path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
				_ = f.Close()
			}
		}
	}
	db := &DB{Gorm: g, Dialect: loc.Dialect}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.Ping(pctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", loc.Dialect, err)
	}
	return db, nil
}

// gormLogger reports database errors and slow statements through slog, without parameters, so
// no value a query carried (a name, an e-mail address, a ciphertext) reaches a log.
type gormLogger struct {
	log  *slog.Logger
	slow time.Duration
}

func newGormLogger(l *slog.Logger) logger.Interface {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &gormLogger{log: l, slow: 500 * time.Millisecond}
}

func (g *gormLogger) LogMode(logger.LogLevel) logger.Interface { return g }
func (g *gormLogger) Info(context.Context, string, ...any)     {}
func (g *gormLogger) Warn(context.Context, string, ...any)     {}
func (g *gormLogger) Error(context.Context, string, ...any)    {}

// ParamsFilter drops bound values from the SQL text GORM hands to Trace.
func (g *gormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

func (g *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	if elapsed < g.slow {
		return
	}
	sqlText, _ := fc()
	g.log.WarnContext(ctx, "slow database statement", "elapsed_ms", elapsed.Milliseconds(), "sql", sqlText)
}

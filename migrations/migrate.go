package migrations

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Errors returned by Check.
var (
	// ErrPending means the database is behind this binary: run `parley migrate up`
	// or start `parley serve --migrate`.
	ErrPending = errors.New("database schema is outdated")
	// ErrUnknownVersion means the database was migrated by a newer Parley than this binary.
	ErrUnknownVersion = errors.New("database schema is newer than this binary")
)

// Migrator applies and inspects the embedded migrations of one database.
type Migrator struct {
	db       *DB
	provider *goose.Provider
}

// NewMigrator prepares the migrations of db's dialect. On Postgres a session advisory lock makes
// concurrent `migrate up` runs from several nodes take turns.
func NewMigrator(db *DB) (*Migrator, error) {
	sqlDB, err := db.SQL()
	if err != nil {
		return nil, err
	}
	var (
		dialect goose.Dialect
		opts    []goose.ProviderOption
	)
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	switch db.Dialect {
	case Postgres:
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case SQLite:
		dialect = goose.DialectSQLite3
	default:
		return nil, ErrUnknownScheme
	}
	sub, err := fs.Sub(FS, string(db.Dialect))
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(dialect, sqlDB, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return &Migrator{db: db, provider: p}, nil
}

// Applied describes one migration run by Up.
type Applied struct {
	Version int64
	Name    string
}

// Up applies every pending migration in order and returns what it applied.
func (m *Migrator) Up(ctx context.Context) ([]Applied, error) {
	// Data migrations touch every tenant's rows; row-level security binds the owner too (forced).
	res, err := m.provider.Up(AcrossTenants(ctx))
	out := make([]Applied, 0, len(res))
	for _, r := range res {
		out = append(out, Applied{Version: r.Source.Version, Name: r.Source.Path})
	}
	if err != nil {
		return out, fmt.Errorf("migrate up: %w", err)
	}
	return out, nil
}

// State is one migration's status.
type State struct {
	Version int64
	Name    string
	Applied bool
}

// Status lists every known migration and whether it has been applied.
func (m *Migrator) Status(ctx context.Context) ([]State, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]State, 0, len(st))
	for _, s := range st {
		out = append(out, State{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	return out, nil
}

// Versions returns the database's current schema version and the newest this binary knows.
func (m *Migrator) Versions(ctx context.Context) (current, target int64, err error) {
	return m.provider.GetVersions(ctx)
}

// Check returns nil when the database schema is exactly what this binary expects, ErrPending when
// migrations are waiting and ErrUnknownVersion when the database is ahead of the binary.
func (m *Migrator) Check(ctx context.Context) error {
	current, target, err := m.provider.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case current > target:
		return fmt.Errorf("%w (database at %d, binary knows up to %d)", ErrUnknownVersion, current, target)
	case current < target:
		return fmt.Errorf("%w (database at %d, binary expects %d)", ErrPending, current, target)
	}
	pending, err := m.provider.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if pending {
		return fmt.Errorf("%w (a migration below %d was never applied)", ErrPending, target)
	}
	return nil
}

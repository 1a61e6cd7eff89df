package migrations

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/parleyhq/parley/compliance/pan"
)

// PostgreSQL connections carry the tenant of each statement to the server (tenancy.go). The
// connector below wraps pgx's database/sql connections: before a statement runs, the connection
// makes parley.tenant_id (and parley.all_tenants, for the narrow cross-tenant path) match the
// statement's context — with set_config(…, true), that is SET LOCAL, inside a transaction, and
// as a session setting outside one — and skips the round trip when the connection already holds
// that scope.

// setScopeSQL sets both settings in one round trip; $3 makes them local to the transaction.
const setScopeSQL = "SELECT set_config('parley.tenant_id', $1, $3), set_config('parley.all_tenants', $2, $3)"

// unknownScope is a connection's state before its first statement, or after a failed set: the next
// statement sets its scope whatever it is.
const unknownScope = "\x00unknown"

// scopeKey names a scope as the connection tracks it: the tenant id, "*" across tenants, "" none.
func scopeKey(s scope) string {
	if s.across {
		return "*"
	}
	return s.tenant
}

// openPostgres returns a connection pool over pgx whose connections set each statement's tenant.
func openPostgres(dsn string, log *slog.Logger, unbound bool) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres URL: %w", err)
	}
	return sql.OpenDB(tenantConnector{base: stdlib.GetConnector(*cfg), unscoped: newUnscopedReport(log, unbound)}), nil
}

// tenantConnector opens tenant-scoping connections over pgx's connector.
type tenantConnector struct {
	base     driver.Connector
	unscoped *unscopedReport
}

// unscopedReport notices statements that name tenant_id but run with no tenant in their context:
// row-level security shows them no rows, which is safe but is a path that forgot its scope. Each
// distinct statement is logged once (its SQL text, which carries no values); with
// PARLEY_STRICT_TENANT_SCOPE=1 (the test suite) the statement is refused instead, so a test
// finds the path.
type unscopedReport struct {
	log    *slog.Logger
	strict bool
	mu     sync.Mutex
	seen   map[string]bool
}

// ErrUnscoped is the refusal of a statement that names tenant_id without a tenant scope, in
// strict mode.
var ErrUnscoped = errors.New("database: statement on tenant data without a tenant scope")

// isDML reports whether a statement reads or writes rows (schema changes, such as migrations,
// name tenant_id without touching any row).
func isDML(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n(")
	if len(q) < 6 {
		return false
	}
	switch strings.ToUpper(q[:6]) {
	case "SELECT", "INSERT", "UPDATE", "DELETE":
		return true
	}
	return strings.EqualFold(q[:4], "WITH")
}

func newUnscopedReport(log *slog.Logger, unbound bool) *unscopedReport {
	if unbound {
		return nil
	}
	return &unscopedReport{log: log, strict: os.Getenv("PARLEY_STRICT_TENANT_SCOPE") == "1", seen: map[string]bool{}}
}

func (u *unscopedReport) check(s scope, query string) error {
	if u == nil || s.tenant != "" || s.across || !strings.Contains(query, "tenant_id") || !isDML(query) {
		return nil
	}
	// Statements are parameterised, but the text is masked all the same before it is shown.
	shown := pan.MaskLast4(fmt.Sprintf("%.160s", query))
	if u.strict {
		return fmt.Errorf("%w: %s", ErrUnscoped, shown)
	}
	u.mu.Lock()
	first := !u.seen[query] && len(u.seen) < 1000
	if first {
		u.seen[query] = true
	}
	u.mu.Unlock()
	if first && u.log != nil {
		u.log.Warn("database statement on tenant data without a tenant scope: row-level security shows it no rows", "sql", shown)
	}
	return nil
}

// Connect implements driver.Connector.
func (c tenantConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(*stdlib.Conn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("postgres driver connection %T is not pgx", conn)
	}
	return &tenantConn{Conn: sc, session: unknownScope, unscoped: c.unscoped}, nil
}

// Driver implements driver.Connector.
func (c tenantConnector) Driver() driver.Driver { return c.base.Driver() }

// tenantConn is a pgx connection that sets the tenant of each statement before running it.
type tenantConn struct {
	*stdlib.Conn
	// session is the scope held as a session setting; tx the scope in force in the open
	// transaction (inTx), which reverts to session when it ends.
	session  string
	tx       string
	inTx     bool
	unscoped *unscopedReport
}

var (
	_ driver.ConnBeginTx        = (*tenantConn)(nil)
	_ driver.ExecerContext      = (*tenantConn)(nil)
	_ driver.QueryerContext     = (*tenantConn)(nil)
	_ driver.NamedValueChecker  = (*tenantConn)(nil)
	_ driver.SessionResetter    = (*tenantConn)(nil)
	_ driver.ConnPrepareContext = (*tenantConn)(nil)
)

// PgxConn returns the pgx connection underneath, for what database/sql cannot do (the chat
// relay's LISTEN). Its statements bypass the tenant scope: only use it for statements that touch
// no table.
func (c *tenantConn) PgxConn() *pgx.Conn { return c.Conn.Conn() }

// scope makes the connection's settings match ctx's scope.
func (c *tenantConn) scope(ctx context.Context) error {
	s := scopeOf(ctx)
	if s.conflict {
		return ErrTenantConflict
	}
	want := scopeKey(s)
	held := c.session
	if c.inTx {
		held = c.tx
	}
	if want == held {
		return nil
	}
	all := "off"
	if s.across {
		all = "on"
	}
	args := []driver.NamedValue{{Ordinal: 1, Value: s.tenant}, {Ordinal: 2, Value: all}, {Ordinal: 3, Value: c.inTx}}
	rows, err := c.Conn.QueryContext(ctx, setScopeSQL, args)
	if err == nil {
		err = rows.Close()
	}
	if err != nil {
		if c.inTx {
			c.tx = unknownScope
		} else {
			c.session = unknownScope
		}
		return fmt.Errorf("set tenant scope: %w", err)
	}
	if c.inTx {
		c.tx = want
	} else {
		c.session = want
	}
	return nil
}

// BeginTx implements driver.ConnBeginTx: the transaction starts with the scope of ctx.
func (c *tenantConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if scopeOf(ctx).conflict {
		return nil, ErrTenantConflict
	}
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx, c.tx = true, c.session
	if err := c.scope(ctx); err != nil {
		_ = tx.Rollback()
		c.inTx = false
		return nil, err
	}
	return &tenantTx{Tx: tx, c: c}, nil
}

// Begin implements driver.Conn.
func (c *tenantConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// ExecContext implements driver.ExecerContext.
func (c *tenantConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.scope(ctx); err != nil {
		return nil, err
	}
	if err := c.unscoped.check(scopeOf(ctx), query); err != nil {
		return nil, err
	}
	return c.Conn.ExecContext(ctx, query, args)
}

// QueryContext implements driver.QueryerContext.
func (c *tenantConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.scope(ctx); err != nil {
		return nil, err
	}
	if err := c.unscoped.check(scopeOf(ctx), query); err != nil {
		return nil, err
	}
	return c.Conn.QueryContext(ctx, query, args)
}

// tenantTx ends a transaction and with it the transaction's scope.
type tenantTx struct {
	driver.Tx
	c *tenantConn
}

// Commit implements driver.Tx.
func (t *tenantTx) Commit() error {
	t.c.inTx = false
	return t.Tx.Commit()
}

// Rollback implements driver.Tx.
func (t *tenantTx) Rollback() error {
	t.c.inTx = false
	return t.Tx.Rollback()
}

package migrations

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/glebarez/sqlite"
)

// Parley's SQLite connections begin every read-write transaction with BEGIN IMMEDIATE, so a
// transaction takes the write lock at its start and waits for it under the busy timeout. A
// deferred transaction (SQLite's default) that reads before its first write must upgrade its lock
// at that write; when another connection holds it, SQLite answers SQLITE_BUSY at once, because
// waiting could deadlock, and the busy timeout never applies.
//
// The driver's own _txlock=immediate option cannot be used: the driver stops reading options
// after _time_format, which Parley needs for its time values. So the connector below wraps the
// driver's connections and issues the BEGIN itself.

// immediateConnector opens SQLite connections whose transactions begin IMMEDIATE.
type immediateConnector struct {
	drv driver.Driver
	dsn string
}

var _ driver.Connector = immediateConnector{}

// Connect implements driver.Connector.
func (c immediateConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		_ = conn.Close()
		return nil, errors.New("sqlite driver connection cannot execute statements directly")
	}
	return &immediateConn{Conn: conn, exec: ex}, nil
}

// Driver implements driver.Connector.
func (c immediateConnector) Driver() driver.Driver { return c.drv }

// openSQLite returns a connection pool over the pure-Go SQLite driver whose read-write
// transactions begin IMMEDIATE.
func openSQLite(dsn string) (*sql.DB, error) {
	probe, err := sql.Open(sqlite.DriverName, "")
	if err != nil {
		return nil, fmt.Errorf("sqlite driver: %w", err)
	}
	drv := probe.Driver()
	_ = probe.Close()
	return sql.OpenDB(immediateConnector{drv: drv, dsn: dsn}), nil
}

// immediateConn is a driver connection whose BeginTx issues BEGIN IMMEDIATE (BEGIN for read-only
// transactions). Every other call goes to the driver's connection.
type immediateConn struct {
	driver.Conn
	exec driver.ExecerContext
	// broken is set when a transaction could be neither committed nor rolled back: SQLite's
	// transaction may still be open (holding the write lock), so database/sql must discard the
	// connection instead of reusing it.
	broken atomic.Bool
}

var (
	_ driver.ConnBeginTx        = (*immediateConn)(nil)
	_ driver.ExecerContext      = (*immediateConn)(nil)
	_ driver.QueryerContext     = (*immediateConn)(nil)
	_ driver.ConnPrepareContext = (*immediateConn)(nil)
	_ driver.Pinger             = (*immediateConn)(nil)
	_ driver.SessionResetter    = (*immediateConn)(nil)
	_ driver.Validator          = (*immediateConn)(nil)
)

// BeginTx implements driver.ConnBeginTx.
func (c *immediateConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.Isolation != driver.IsolationLevel(sql.LevelDefault) && opts.Isolation != driver.IsolationLevel(sql.LevelSerializable) {
		return nil, errors.New("sqlite transactions are serializable only")
	}
	stmt := "BEGIN IMMEDIATE"
	if opts.ReadOnly {
		stmt = "BEGIN"
	}
	if _, err := c.exec.ExecContext(ctx, stmt, nil); err != nil {
		return nil, err
	}
	return immediateTx{c: c}, nil
}

// Begin implements driver.Conn.
func (c *immediateConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// ExecContext implements driver.ExecerContext.
func (c *immediateConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.exec.ExecContext(ctx, query, args)
}

// QueryContext implements driver.QueryerContext.
func (c *immediateConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

// PrepareContext implements driver.ConnPrepareContext.
func (c *immediateConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Prepare(query)
}

// Ping implements driver.Pinger.
func (c *immediateConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ResetSession implements driver.SessionResetter: a broken connection is discarded.
func (c *immediateConn) ResetSession(ctx context.Context) error {
	if c.broken.Load() {
		return driver.ErrBadConn
	}
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid implements driver.Validator: a broken connection is not returned to the pool.
func (c *immediateConn) IsValid() bool {
	if c.broken.Load() {
		return false
	}
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// immediateTx ends a transaction begun by immediateConn.BeginTx.
type immediateTx struct{ c *immediateConn }

// Commit implements driver.Tx. A COMMIT that fails leaves SQLite's transaction open, so it is
// rolled back before the connection goes back to the pool; when that fails too, the connection
// is marked broken and discarded.
func (t immediateTx) Commit() error {
	_, err := t.c.exec.ExecContext(context.Background(), "COMMIT", nil)
	if err != nil {
		if _, rerr := t.c.exec.ExecContext(context.Background(), "ROLLBACK", nil); rerr != nil && !noTransaction(rerr) {
			t.c.broken.Store(true)
		}
	}
	return err
}

// Rollback implements driver.Tx; a rollback that fails marks the connection broken.
func (t immediateTx) Rollback() error {
	_, err := t.c.exec.ExecContext(context.Background(), "ROLLBACK", nil)
	if err != nil && !noTransaction(err) {
		t.c.broken.Store(true)
	}
	return err
}

// noTransaction reports SQLite's answer to a ROLLBACK with no transaction open (SQLite already
// rolled it back, as it does after some errors): the connection is clean.
func noTransaction(err error) bool {
	return strings.Contains(err.Error(), "no transaction is active")
}

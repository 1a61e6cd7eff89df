package hub

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// Channel is the PostgreSQL notification channel chat signals travel on.
const Channel = "parley_chat"

// maxPayload is below PostgreSQL's 8000-byte NOTIFY limit; a signal is a few dozen bytes.
const maxPayload = 1024

// ErrPayload means a signal would not fit a notification.
var ErrPayload = errors.New("hub: signal too large for a notification")

// Postgres relays signals between nodes with LISTEN/NOTIFY on one PostgreSQL database. Payloads
// hold ids only ({"t","k","c","s","sk","ty","n"}), never content.
type Postgres struct {
	hub *Hub
	db  *sql.DB
	log *slog.Logger
	// listening is closed once the first LISTEN succeeded (tests wait on it).
	listening chan struct{}
}

var _ Remote = (*Postgres)(nil)

// NewPostgres returns a relay for hub over db (a pool of the pgx stdlib driver) and attaches it.
func NewPostgres(h *Hub, db *sql.DB, log *slog.Logger) *Postgres {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Postgres{hub: h, db: db, log: log, listening: make(chan struct{})}
	h.Attach(p)
	return p
}

// Listening is closed once the relay listens for the first time.
func (p *Postgres) Listening() <-chan struct{} { return p.listening }

// NotifyTx queues s in tx; PostgreSQL delivers it to every listener when tx commits.
func (p *Postgres) NotifyTx(ctx context.Context, tx *gorm.DB, s Signal) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if len(b) > maxPayload {
		return ErrPayload
	}
	return tx.WithContext(ctx).Exec("SELECT pg_notify(?, ?)", Channel, string(b)).Error
}

// Notify sends s now; a failure is logged, not returned (ephemeral signals may be lost).
func (p *Postgres) Notify(ctx context.Context, s Signal) {
	b, err := json.Marshal(s)
	if err != nil || len(b) > maxPayload {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := p.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", Channel, string(b)); err != nil {
		p.log.Warn("chat notify failed", "error", err.Error())
	}
}

// Run listens until ctx ends, reconnecting with backoff. After every reconnect it tells local
// subscribers to resynchronise from the database, because notifications sent while it was away
// are lost.
func (p *Postgres) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := p.listen(ctx, func() {
			if first {
				close(p.listening)
				first = false
			} else {
				p.hub.Resync()
			}
			backoff = 100 * time.Millisecond
		})
		if ctx.Err() != nil {
			break
		}
		p.log.Warn("chat listener lost its connection; reconnecting", "error", err.Error(), "backoff", backoff.String())
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	return nil
}

func (p *Postgres) listen(ctx context.Context, up func()) error {
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("hub: driver connection %T is not pgx", dc)
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
			return err
		}
		// A connection that goes back to the pool must not keep listening.
		defer func() {
			uctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, _ = pc.Exec(uctx, "UNLISTEN *")
		}()
		up()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				return err
			}
			p.deliver(n.Payload)
		}
	})
}

func (p *Postgres) deliver(payload string) {
	var s Signal
	if err := json.Unmarshal([]byte(payload), &s); err != nil || s.Topic == "" {
		return
	}
	if s.Node == p.hub.node {
		return
	}
	s.Local = nil
	p.hub.PublishLocal(s)
}

package hub

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channel is the PostgreSQL notification channel chat signals travel on.
const Channel = "parley_chat"

// maxPayload is below PostgreSQL's 8000-byte NOTIFY limit; a signal is a few dozen bytes.
const maxPayload = 1024

// Postgres relays signals between nodes with LISTEN/NOTIFY on one PostgreSQL database. Payloads
// hold ids only ({"t","k","c","s","sk","ty","n"}), never content.
//
// Signals are sent after the change they announce has committed, in batches, outside the
// change's transaction: PostgreSQL serialises the commits of transactions that NOTIFY, so a
// NOTIFY inside every message's transaction would cap the whole cluster at one commit (one
// fsync) at a time. A signal lost between a commit and its NOTIFY is made good by subscribers'
// periodic database check.
type Postgres struct {
	hub *Hub
	db  *sql.DB
	log *slog.Logger
	// out holds signals waiting to be sent; full means dropped (and counted).
	out     chan Signal
	dropped atomic.Uint64
	// listening is closed once the first LISTEN succeeded (tests wait on it).
	listening chan struct{}
}

// sendQueue bounds the signals waiting for NOTIFY; sendBatch is how many one statement sends.
const (
	sendQueue = 8192
	sendBatch = 64
)

var _ Remote = (*Postgres)(nil)

// NewPostgres returns a relay for hub over db (a pool of the pgx stdlib driver) and attaches it.
func NewPostgres(h *Hub, db *sql.DB, log *slog.Logger) *Postgres {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Postgres{hub: h, db: db, log: log, out: make(chan Signal, sendQueue), listening: make(chan struct{})}
	h.Attach(p)
	return p
}

// Listening is closed once the relay listens for the first time.
func (p *Postgres) Listening() <-chan struct{} { return p.listening }

// Notify queues s for the other nodes; when the queue is full the signal is dropped.
func (p *Postgres) Notify(s Signal) {
	select {
	case p.out <- s:
	default:
		p.dropped.Add(1)
	}
}

// Dropped returns how many signals were dropped because the send queue was full.
func (p *Postgres) Dropped() uint64 { return p.dropped.Load() }

// send writes queued signals with one statement per batch until ctx ends.
func (p *Postgres) send(ctx context.Context) {
	batch := make([]Signal, 0, sendBatch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case s := <-p.out:
			batch = append(batch, s)
		}
	fill:
		for len(batch) < sendBatch {
			select {
			case s := <-p.out:
				batch = append(batch, s)
			default:
				break fill
			}
		}
		if err := p.sendBatch(ctx, batch); err != nil && ctx.Err() == nil {
			p.log.Warn("chat notify failed", "signals", len(batch), "error", err.Error())
		}
	}
}

func (p *Postgres) sendBatch(ctx context.Context, batch []Signal) error {
	var q strings.Builder
	args := make([]any, 0, len(batch)+1)
	args = append(args, Channel)
	q.WriteString("SELECT ")
	for _, s := range batch {
		b, err := json.Marshal(s)
		if err != nil || len(b) > maxPayload {
			continue
		}
		if len(args) > 1 {
			q.WriteString(", ")
		}
		args = append(args, string(b))
		fmt.Fprintf(&q, "pg_notify($1, $%d)", len(args))
	}
	if len(args) == 1 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := p.db.ExecContext(ctx, q.String(), args...)
	return err
}

// Run listens and sends until ctx ends, reconnecting with backoff. After every reconnect it
// tells local subscribers to resynchronise from the database, because notifications sent while
// it was away are lost.
func (p *Postgres) Run(ctx context.Context) error {
	go p.send(ctx)
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
		sc, ok := dc.(interface{ PgxConn() *pgx.Conn })
		if !ok {
			return fmt.Errorf("hub: driver connection %T is not pgx", dc)
		}
		pc := sc.PgxConn()
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

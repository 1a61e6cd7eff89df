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

// maxPayload is below PostgreSQL's 8000-byte NOTIFY limit: one notification carries as many
// signals (a few dozen bytes each) as fit.
const maxPayload = 7900

// Postgres relays signals between nodes with LISTEN/NOTIFY on one PostgreSQL database. Payloads
// hold ids only, never content: {"n":node,"s":[{"t","k","c","s","sk","ty"},…]}, the signals one
// node queued, as many as fit under the 8000-byte limit in each notification.
//
// Signals are sent after the change they announce has committed, in batches, outside the
// change's transaction: PostgreSQL serialises the commits of transactions that NOTIFY, so a
// NOTIFY inside every message's transaction would cap the whole cluster at one commit (one
// fsync) at a time. Whatever is queued goes out in one statement, packed into as few
// notifications as fit: a burst costs each listening node a few notifications, not one per
// message, and a node recognises its own from the payload's first bytes without decoding them.
// Local subscribers never wait for any of it: Hub.Publish delivers on this node first. A signal
// lost between a commit and its NOTIFY is made good by subscribers' periodic database check.
type Postgres struct {
	hub *Hub
	db  *sql.DB
	log *slog.Logger
	// out holds signals waiting to be sent; full means dropped (and counted).
	out     chan Signal
	dropped atomic.Uint64
	// sent counts notifications sent, statements the statements that sent them.
	sent, statements atomic.Uint64
	// own is the payload prefix of this node's notifications.
	own string
	// listening is closed once the first LISTEN succeeded (tests wait on it).
	listening chan struct{}
}

// sendQueue bounds the signals waiting for NOTIFY; sendBatch is how many one statement sends.
const (
	sendQueue = 8192
	sendBatch = 512
)

var _ Remote = (*Postgres)(nil)

// NewPostgres returns a relay for hub over db (a pool of the pgx stdlib driver) and attaches it.
func NewPostgres(h *Hub, db *sql.DB, log *slog.Logger) *Postgres {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Postgres{hub: h, db: db, log: log, out: make(chan Signal, sendQueue), listening: make(chan struct{})}
	p.own = payloadHead(h.node)
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

// Sent returns how many notifications the relay sent and in how many statements.
func (p *Postgres) Sent() (notifications, statements uint64) {
	return p.sent.Load(), p.statements.Load()
}

// envelope is one notification: signals of one node.
type envelope struct {
	Node    string            `json:"n"`
	Signals []json.RawMessage `json:"s"`
}

// payloadHead is how every notification of node starts.
func payloadHead(node string) string {
	b, _ := json.Marshal(node)
	return `{"n":` + string(b) + `,"s":[`
}

// payloads packs signals into as few notification payloads as fit under maxPayload each.
func payloads(node string, batch []Signal) []string {
	head := payloadHead(node)
	var out []string
	var cur strings.Builder
	for _, s := range batch {
		s.Node, s.Local = "", nil
		b, err := json.Marshal(s)
		if err != nil || len(head)+len(b)+2 > maxPayload {
			continue
		}
		if cur.Len() > 0 && cur.Len()+1+len(b)+2 > maxPayload {
			cur.WriteString("]}")
			out = append(out, cur.String())
			cur.Reset()
		}
		if cur.Len() == 0 {
			cur.WriteString(head)
		} else {
			cur.WriteByte(',')
		}
		cur.Write(b)
	}
	if cur.Len() > 0 {
		cur.WriteString("]}")
		out = append(out, cur.String())
	}
	return out
}

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
	msgs := payloads(p.hub.node, batch)
	if len(msgs) == 0 {
		return nil
	}
	var q strings.Builder
	args := make([]any, 0, len(msgs)+1)
	args = append(args, Channel)
	q.WriteString("SELECT ")
	for i, m := range msgs {
		if i > 0 {
			q.WriteString(", ")
		}
		args = append(args, m)
		fmt.Fprintf(&q, "pg_notify($1, $%d)", len(args))
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := p.db.ExecContext(ctx, q.String(), args...); err != nil {
		return err
	}
	p.sent.Add(uint64(len(msgs)))
	p.statements.Add(1)
	return nil
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

// deliver hands the signals of a notification to this node's subscribers; this node's own
// notifications, recognised by their first bytes, are skipped undecoded.
func (p *Postgres) deliver(payload string) {
	if strings.HasPrefix(payload, p.own) {
		return
	}
	var env envelope
	if err := json.Unmarshal([]byte(payload), &env); err != nil {
		return
	}
	if env.Signals == nil {
		// One signal per notification, as nodes of earlier versions send them.
		var s Signal
		if err := json.Unmarshal([]byte(payload), &s); err != nil || s.Topic == "" || s.Node == p.hub.node {
			return
		}
		s.Local = nil
		p.hub.PublishLocal(s)
		return
	}
	if env.Node == p.hub.node {
		return
	}
	for _, raw := range env.Signals {
		var s Signal
		if err := json.Unmarshal(raw, &s); err != nil || s.Topic == "" {
			continue
		}
		s.Node, s.Local = env.Node, nil
		p.hub.PublishLocal(s)
	}
}

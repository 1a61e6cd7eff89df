package chat

import (
	"context"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// Auditor appends lifecycle events (start, assign, transfer, end, file download) inside the
// transaction of the change they record; *audit.Log satisfies it. An error fails the change.
// Only the store hands it a transaction.
type Auditor interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
}

type noAuditor struct{}

func (noAuditor) Append(context.Context, *gorm.DB, audit.Event) error { return ErrNoAuditor }

// store holds every SQL statement of the chat (store*.go): the service decides, the store reads
// and writes. Each write method is one transaction, the audit record of the change included.
type store struct {
	db      *gorm.DB
	dialect migrations.Dialect
	audit   Auditor
	now     func() time.Time
	// writeMu serialises this node's write transactions on SQLite.
	writeMu sync.Mutex
	// batch is the group commit of messages (store_batch.go).
	batch *batcher
}

func newStore(db *migrations.DB, a Auditor, now func() time.Time, batch BatchOptions) *store {
	st := &store{db: db.Gorm, dialect: db.Dialect, audit: a, now: now}
	st.batch = newBatcher(st, batch)
	return st
}

// tx runs fn in a transaction. On SQLite the node's writers take turns in Go first: SQLite
// allows one writer at a time, and waiting on a mutex is far cheaper than its busy handler's
// sleep-and-retry.
func (st *store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if st.dialect == migrations.SQLite {
		st.writeMu.Lock()
		defer st.writeMu.Unlock()
	}
	return migrations.Transaction(st.db.WithContext(ctx), fn)
}

// record appends an audit event in a transaction of its own (an action that changes nothing
// else: a supervision, a refusal, a download).
func (st *store) record(ctx context.Context, ev audit.Event) error {
	return st.tx(ctx, func(tx *gorm.DB) error { return st.audit.Append(ctx, tx, ev) })
}

// recordNow appends an audit event outside any transaction and without taking a writer's turn:
// a read that found an unreadable ciphertext records it whatever else the node is writing.
func (st *store) recordNow(ctx context.Context, ev audit.Event) error {
	return st.audit.Append(ctx, st.db.WithContext(ctx), ev)
}

package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/parleyhq/parley/migrations"
)

// Group commit (DESIGN.md §3). Messages posted at the same time — in any conversations, of any
// tenants — are appended in one transaction per batch, so that one durable commit (one fsync)
// carries many of them. A batch is bounded in size (BatchOptions.MaxSize) and in how long its
// first message waits for others (BatchOptions.MaxWait, and only while the node is busy: a lone
// message on an idle node is committed at once, through the single-event path). Within a batch:
//
//   - each tenant's messages are written under that tenant's scope (row-level security on
//     PostgreSQL: every statement sets parley.tenant_id from its context, SET LOCAL);
//   - the conversations are locked (SELECT … FOR UPDATE on PostgreSQL; SQLite transactions take
//     the write lock at BEGIN) in tenant, then id order, and their seqs read: each message takes
//     the next seq of its conversation in the order the messages were submitted, so seq stays
//     gapless and follows the order of each sender's frames;
//   - a message its conversation refuses (ended, not the writer's) or whose seal fails takes no
//     seq and fails alone: its batchmates are stored;
//   - a message whose key is already stored (or taken by an earlier message of the same batch)
//     is refused by the unique index; the batch is then written again without it, and the
//     message answers as a duplicate (Post's duplicateOr);
//   - when the transaction itself fails, each message is written again in a transaction of its
//     own, in order, so the error lands on the message that caused it.
//
// Each caller returns only after the transaction that holds its message committed: acked still
// means durable (synchronous_commit is untouched).

// BatchOptions bounds the group commit of messages.
type BatchOptions struct {
	// MaxSize is the most messages one transaction holds (default 256).
	MaxSize int
	// MaxWait is how long a batch waits for more messages after its first, while the node is
	// busy (the previous batch held an eighth of MaxSize or more); default 1ms, negative for
	// never.
	MaxWait time.Duration
	// Observe, when set, is called after every batch with the number of messages it stored and
	// how long its transactions took (the metrics' batch size and commit latency).
	Observe func(size int, commit time.Duration)
}

// The defaults of BatchOptions.
const (
	DefaultBatchSize = 256
	DefaultBatchWait = time.Millisecond
)

func (o BatchOptions) withDefaults() BatchOptions {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultBatchSize
	}
	if o.MaxWait == 0 {
		o.MaxWait = DefaultBatchWait
	}
	return o
}

// BatchStats counts the group commit's work since the service started.
type BatchStats struct {
	// Batches is how many transactions stored messages; Messages how many messages they held.
	Batches, Messages uint64
	// Retries counts batches written again one message at a time after their transaction failed.
	Retries uint64
	// Queued is how many messages wait for a batch now.
	Queued int
}

// BatchStats returns the group commit's counters.
func (s *Service) BatchStats() BatchStats { return s.store.batch.stats() }

// errKeyTaken refuses a message whose key its sender already used in the conversation: the
// caller answers with the stored original (duplicateOr).
var errKeyTaken = errors.New("chat: message key already stored")

// appendReq is one message waiting for its batch, and then its outcome.
type appendReq struct {
	tenantID, convID string
	ev               newEvent
	check            checkFunc
	seal             sealFunc
	done             chan struct{}
	row              eventRow
	err              error
}

// batcher gathers appendReqs and commits them in batches, one batch at a time: a batch starts
// when the previous one has committed, so the messages that arrived meanwhile go together. The
// committing goroutine ends when nothing is queued.
type batcher struct {
	st   *store
	opts BatchOptions

	mu      sync.Mutex
	queue   []*appendReq
	running bool
	// busy is set while the last batch was well filled (an eighth of MaxSize or more): the
	// next one lingers for MaxWait. Below that, the messages that arrive while a batch commits
	// make the next batch, and none waits on a timer.
	busy bool

	batches, messages, retries atomic.Uint64
}

func newBatcher(st *store, o BatchOptions) *batcher {
	return &batcher{st: st, opts: o.withDefaults()}
}

func (b *batcher) stats() BatchStats {
	b.mu.Lock()
	q := len(b.queue)
	b.mu.Unlock()
	return BatchStats{Batches: b.batches.Load(), Messages: b.messages.Load(), Retries: b.retries.Load(), Queued: q}
}

// appendMessage stores ev through the group commit and returns once its batch committed (or it
// was refused). It waits whatever ctx does: the message may be committing already, and its
// caller must learn its seq to deliver it.
func (st *store) appendMessage(tenantID, convID string, ev newEvent, check checkFunc, seal sealFunc) (eventRow, error) {
	r := st.submitMessage(tenantID, convID, ev, check, seal)
	<-r.done
	return r.row, r.err
}

// submitMessage queues ev for the group commit and returns at once: r.done closes when its batch
// committed (or refused it), and r.row or r.err hold the outcome.
func (st *store) submitMessage(tenantID, convID string, ev newEvent, check checkFunc, seal sealFunc) *appendReq {
	r := &appendReq{tenantID: tenantID, convID: convID, ev: ev, check: check, seal: seal, done: make(chan struct{})}
	st.batch.submit(r)
	return r
}

func (b *batcher) submit(r *appendReq) {
	b.mu.Lock()
	b.queue = append(b.queue, r)
	start := !b.running
	b.running = true
	b.mu.Unlock()
	if start {
		go b.run()
	}
}

// run commits batches until the queue is empty.
func (b *batcher) run() {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.running, b.busy = false, false
			b.mu.Unlock()
			return
		}
		if b.busy && b.opts.MaxWait > 0 && len(b.queue) < b.opts.MaxSize {
			b.mu.Unlock()
			time.Sleep(b.opts.MaxWait)
			b.mu.Lock()
		}
		var batch []*appendReq
		if n := len(b.queue); n <= b.opts.MaxSize {
			batch, b.queue = b.queue, nil
		} else {
			batch = slices.Clone(b.queue[:b.opts.MaxSize])
			b.queue = slices.Delete(b.queue, 0, b.opts.MaxSize)
		}
		b.busy = len(batch) >= max(2, b.opts.MaxSize/8)
		b.mu.Unlock()
		b.commit(batch)
	}
}

// batchTimeout bounds one batch's transaction: its messages' senders are waiting.
const batchTimeout = 30 * time.Second

// commit stores a batch and wakes its callers.
func (b *batcher) commit(batch []*appendReq) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	if len(batch) == 1 {
		// A lone message takes the single-event path: two statements, no batch bookkeeping.
		r := batch[0]
		r.row, r.err = b.st.append(migrations.WithTenant(ctx, r.tenantID), r.tenantID, r.convID, r.ev, r.check, r.seal)
	} else if err := b.st.appendBatch(ctx, batch); err != nil {
		// The error belongs to one message, or to none: each is written on its own, in order.
		b.retries.Add(1)
		for _, r := range batch {
			if err := b.st.appendBatch(ctx, []*appendReq{r}); err != nil {
				r.row, r.err = eventRow{}, err
			}
		}
	}
	var stored uint64
	for _, r := range batch {
		if r.err == nil {
			stored++
		}
		close(r.done)
	}
	b.batches.Add(1)
	b.messages.Add(stored)
	if b.opts.Observe != nil {
		b.opts.Observe(int(stored), time.Since(start)) // #nosec G115 -- at most MaxSize
	}
}

// errConflict rolls a batch back when some of its rows hit a unique index (a key stored
// already); conflicts lists them.
var errConflict = errors.New("chat: batch conflict")

// appendBatch stores reqs in one transaction; a message its key refuses is left out (errKeyTaken)
// and the rest written again. The error is the transaction's; refusals of single messages are
// in their err.
func (st *store) appendBatch(ctx context.Context, reqs []*appendReq) error {
	live := reqs
	for len(live) > 0 {
		conflicts, err := st.appendOnce(ctx, live)
		if err != nil {
			return err
		}
		if len(conflicts) == 0 {
			return nil
		}
		next := live[:0:0]
		for _, r := range live {
			if conflicts[r] {
				r.row, r.err = eventRow{}, errKeyTaken
			} else {
				next = append(next, r)
			}
		}
		live = next
	}
	return nil
}

// lockedConv is a conversation's state as its row was locked, and whether the batch moved it.
type lockedConv struct {
	ID           string
	Seq          int64
	VisitorSeq   int64
	Status       string
	AgentID      *string
	VisitorID    string
	DepartmentID *string
	moved        bool
}

func (c *lockedConv) state() seqState {
	return seqState{Seq: c.Seq, VisitorSeq: c.VisitorSeq, Status: c.Status, AgentID: c.AgentID, VisitorID: c.VisitorID, DepartmentID: c.DepartmentID}
}

// appendOnce runs one transaction over reqs. It returns the messages refused by a unique index
// (the transaction then rolled back) or the transaction's error.
func (st *store) appendOnce(ctx context.Context, reqs []*appendReq) (map[*appendReq]bool, error) {
	byTenant := map[string][]*appendReq{}
	var tenants []string
	for _, r := range reqs {
		if _, ok := byTenant[r.tenantID]; !ok {
			tenants = append(tenants, r.tenantID)
		}
		byTenant[r.tenantID] = append(byTenant[r.tenantID], r)
	}
	slices.Sort(tenants)
	var conflicts map[*appendReq]bool
	err := st.tx(migrations.WithTenant(ctx, tenants[0]), func(tx *gorm.DB) error {
		conflicts = nil
		for _, r := range reqs {
			r.row, r.err = eventRow{}, nil
		}
		for _, t := range tenants {
			c, err := st.appendTenant(migrations.WithTenant(ctx, t), tx, t, byTenant[t])
			if err != nil {
				conflicts = c
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errConflict) && len(conflicts) > 0 {
		return conflicts, nil
	}
	return nil, err
}

// appendTenant writes one tenant's messages of a batch inside tx: lock and read the
// conversations, give each message its seq, seal it, insert the rows, move the conversations'
// seqs.
func (st *store) appendTenant(ctx context.Context, tx *gorm.DB, tenantID string, reqs []*appendReq) (map[*appendReq]bool, error) {
	now := st.now().UTC()
	ids := make([]string, 0, len(reqs))
	for _, r := range reqs {
		ids = append(ids, r.convID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	lock := "SELECT id, last_seq AS seq, visitor_last_seq AS visitor_seq, status, agent_id, visitor_id, department_id " +
		"FROM conversations WHERE tenant_id = ? AND id IN ? ORDER BY id"
	if st.dialect == migrations.Postgres {
		lock += " FOR UPDATE"
	}
	var locked []lockedConv
	if err := tx.WithContext(ctx).Raw(lock, tenantID, ids).Scan(&locked).Error; err != nil {
		return nil, err
	}
	convs := make(map[string]*lockedConv, len(locked))
	for i := range locked {
		convs[locked[i].ID] = &locked[i]
	}
	rows := make([]eventRow, 0, len(reqs))
	owners := make([]*appendReq, 0, len(reqs))
	for _, r := range reqs {
		c := convs[r.convID]
		if c == nil {
			r.err = ErrNotFound
			continue
		}
		ev := r.ev
		if ev.Audience == "" {
			ev.Audience = AudienceAll
		}
		next := c.state()
		next.Seq++
		if ev.Audience == AudienceAll {
			next.VisitorSeq++
		}
		if r.check != nil {
			if r.err = r.check(next); r.err != nil {
				continue
			}
		}
		var body string
		if r.seal != nil {
			if body, r.err = r.seal(next.Seq); r.err != nil {
				continue
			}
		}
		row, err := newRow(tenantID, r.convID, ev, next, body, now)
		if err != nil {
			r.err = err
			continue
		}
		c.Seq, c.VisitorSeq, c.moved = next.Seq, next.VisitorSeq, true
		rows = append(rows, row)
		owners = append(owners, r)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	res := tx.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected != int64(len(rows)) {
		return st.conflicts(ctx, tx, tenantID, rows, owners)
	}
	if err := st.moveSeqs(ctx, tx, tenantID, locked, now); err != nil {
		return nil, err
	}
	for i, r := range owners {
		r.row = rows[i]
	}
	return nil, nil
}

// conflicts names the messages whose rows a unique index refused (they are not in the table
// after the insert) and rolls the batch back with errConflict.
func (st *store) conflicts(ctx context.Context, tx *gorm.DB, tenantID string, rows []eventRow, owners []*appendReq) (map[*appendReq]bool, error) {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var stored []string
	if err := tx.WithContext(ctx).Model(&eventRow{}).Where("tenant_id = ? AND id IN ?", tenantID, ids).Pluck("id", &stored).Error; err != nil {
		return nil, err
	}
	in := make(map[string]bool, len(stored))
	for _, id := range stored {
		in[id] = true
	}
	out := map[*appendReq]bool{}
	for i, r := range rows {
		if !in[r.ID] {
			out[owners[i]] = true
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("chat: batch insert stored %d of %d rows", len(stored), len(rows))
	}
	return out, errConflict
}

// moveSeqs sets the last seqs of the conversations the batch appended to, in one statement.
func (st *store) moveSeqs(ctx context.Context, tx *gorm.DB, tenantID string, convs []lockedConv, now time.Time) error {
	var q strings.Builder
	args := make([]any, 0, 3*len(convs)+2)
	n := 0
	q.WriteString("WITH v(id, seq, vseq) AS (VALUES ")
	for _, c := range convs {
		if !c.moved {
			continue
		}
		if n > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, CAST(? AS BIGINT), CAST(? AS BIGINT))")
		args = append(args, c.ID, c.Seq, c.VisitorSeq)
		n++
	}
	q.WriteString(") UPDATE conversations SET last_seq = v.seq, visitor_last_seq = v.vseq, updated_at = ? " +
		"FROM v WHERE conversations.tenant_id = ? AND conversations.id = v.id")
	args = append(args, now, tenantID)
	res := tx.WithContext(ctx).Exec(q.String(), args...)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != int64(n) {
		return fmt.Errorf("chat: batch moved %d of %d conversations", res.RowsAffected, n)
	}
	return nil
}

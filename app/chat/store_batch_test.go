package chat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// batchFixture is a migrated database with two tenants of convsPer open conversations each,
// seeded beneath row-level security, and a store over the server's connection (row-level
// security in force on PostgreSQL).
type batchFixture struct {
	db      *migrations.DB
	st      *store
	tenants []string
	// convs maps a conversation to its tenant and visitor.
	convs   map[string][2]string
	ordered []string
}

func newBatchFixture(t testing.TB, db *migrations.DB, convsPer int, o BatchOptions) *batchFixture {
	t.Helper()
	ctx := context.Background()
	if err := migrations.CheckIsolation(ctx, db); err != nil {
		t.Fatalf("the test's role must be bound by row-level security: %v", err)
	}
	raw := migratetest.Beneath(t, db).Gorm.WithContext(migrations.AcrossTenants(ctx))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := &batchFixture{db: db, convs: map[string][2]string{}}
	for ti := range 2 {
		tid := fmt.Sprintf("tenant-%d", ti)
		f.tenants = append(f.tenants, tid)
		must(t, raw.Exec("INSERT INTO tenants (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", tid, tid, tid, now, now).Error)
		site := tid + "-site"
		must(t, raw.Exec("INSERT INTO sites (id, tenant_id, name, site_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
			site, tid, "web", site+"-key", now, now).Error)
		for ci := range convsPer {
			cid := fmt.Sprintf("%s-conv-%02d", tid, ci)
			vid := cid + "-visitor"
			must(t, raw.Exec("INSERT INTO conversations (id, tenant_id, site_id, visitor_id, status, agent_id, queued_at, created_at, updated_at) "+
				"VALUES (?, ?, ?, ?, 'active', 'agent-1', ?, ?, ?)", cid, tid, site, vid, now, now, now).Error)
			f.convs[cid] = [2]string{tid, vid}
			f.ordered = append(f.ordered, cid)
		}
	}
	f.st = newStore(db, noAuditor{}, func() time.Time { return now }, o)
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// req is a visitor's message (or, with whisper, an agent's whisper) in conv with key; its seal
// binds the body to the seq as the service's does.
func (f *batchFixture) req(conv, key string, whisper bool) *appendReq {
	tv := f.convs[conv]
	ev := newEvent{Kind: KindMessage, SenderKind: SenderVisitor, SenderID: tv[1], Key: key}
	a := Actor{Kind: SenderVisitor, ID: tv[1]}
	if whisper {
		ev = newEvent{Kind: KindMessage, SenderKind: SenderAgent, SenderID: "supervisor-1", Key: key, Audience: AudienceAgents}
		none := "" // the fixture's conversations have no department
		a = Actor{Kind: SenderAgent, ID: "supervisor-1", Whisper: true, Department: &none}
	}
	return &appendReq{tenantID: tv[0], convID: conv, ev: ev, done: make(chan struct{}),
		check: func(st seqState) error { return mayWrite(st, a) },
		seal:  func(seq int64) (string, error) { return fmt.Sprintf("sealed|%s|%d", key, seq), nil }}
}

// stored is a conversation's log as the database holds it, beneath row-level security.
func (f *batchFixture) stored(t testing.TB, conv string) []eventRow {
	t.Helper()
	var rows []eventRow
	must(t, migratetest.Beneath(t, f.db).Gorm.WithContext(migrations.AcrossTenants(context.Background())).
		Where("conversation_id = ?", conv).Order("seq").Find(&rows).Error)
	return rows
}

// checkLog verifies a conversation's log: seq and visitor_seq gapless from 1, each body bound to
// its seq, the conversation's counters at the last ones, every row of the conversation's tenant.
func (f *batchFixture) checkLog(t testing.TB, conv string) []eventRow {
	t.Helper()
	rows := f.stored(t, conv)
	var vseq int64
	for i, r := range rows {
		if r.Seq != int64(i+1) {
			t.Fatalf("%s: row %d has seq %d, want %d (gap or reorder)", conv, i, r.Seq, i+1)
		}
		if r.TenantID != f.convs[conv][0] {
			t.Fatalf("%s: row of tenant %s, want %s", conv, r.TenantID, f.convs[conv][0])
		}
		if want := fmt.Sprintf("sealed|%s|%d", deref(r.IdempotencyKey), r.Seq); r.Body != want {
			t.Fatalf("%s: seq %d body %q, want %q (sealed for another seq)", conv, r.Seq, r.Body, want)
		}
		if r.Audience == AudienceAll {
			vseq++
			if r.VisitorSeq == nil || *r.VisitorSeq != vseq {
				t.Fatalf("%s: seq %d has visitor_seq %v, want %d", conv, r.Seq, r.VisitorSeq, vseq)
			}
		} else if r.VisitorSeq != nil {
			t.Fatalf("%s: whisper at seq %d has visitor_seq %d", conv, r.Seq, *r.VisitorSeq)
		}
	}
	var c struct{ LastSeq, VisitorLastSeq int64 }
	must(t, migratetest.Beneath(t, f.db).Gorm.WithContext(migrations.AcrossTenants(context.Background())).
		Raw("SELECT last_seq, visitor_last_seq FROM conversations WHERE id = ?", conv).Scan(&c).Error)
	if c.LastSeq != int64(len(rows)) || c.VisitorLastSeq != vseq {
		t.Fatalf("%s: conversation at seq %d/%d, log at %d/%d", conv, c.LastSeq, c.VisitorLastSeq, len(rows), vseq)
	}
	return rows
}

// TestGroupCommitConcurrent: many posters across conversations of two tenants, each sending its
// messages one after the other (as a socket does) while the others do the same. Every
// acknowledged message is stored exactly once, each poster's messages hold increasing seqs in
// the order it sent them, every conversation's seq and visitor_seq are gapless, and re-sending
// a key is refused as taken without storing anything.
func TestGroupCommitConcurrent(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		f := newBatchFixture(t, db, 6, BatchOptions{MaxSize: 16})
		const perPoster = 15
		type poster struct {
			conv    string
			whisper bool
		}
		var posters []poster
		for _, c := range f.ordered {
			posters = append(posters, poster{c, false}, poster{c, false}, poster{c, true})
		}
		acked := make([][]eventRow, len(posters))
		var wg sync.WaitGroup
		for pi, p := range posters {
			wg.Go(func() {
				for m := range perPoster {
					r := f.req(p.conv, fmt.Sprintf("p%d-m%d", pi, m), p.whisper)
					row, err := f.st.appendMessage(r.tenantID, r.convID, r.ev, r.check, r.seal)
					if err != nil {
						t.Errorf("poster %d message %d: %v", pi, m, err)
						return
					}
					acked[pi] = append(acked[pi], row)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		byID := map[string]eventRow{}
		for _, c := range f.ordered {
			for _, r := range f.checkLog(t, c) {
				byID[r.ID] = r
			}
		}
		total := 0
		for pi, rows := range acked {
			total += len(rows)
			for i, r := range rows {
				got, ok := byID[r.ID]
				if !ok || got.Seq != r.Seq || got.ConversationID != posters[pi].conv {
					t.Fatalf("poster %d message %d acked at seq %d is not stored as acked (%+v)", pi, i, r.Seq, got)
				}
				if i > 0 && r.Seq <= rows[i-1].Seq {
					t.Fatalf("poster %d: message %d at seq %d after seq %d", pi, i, r.Seq, rows[i-1].Seq)
				}
			}
		}
		if len(byID) != total || total != len(posters)*perPoster {
			t.Fatalf("stored %d rows, acked %d, sent %d", len(byID), total, len(posters)*perPoster)
		}
		st := f.st.batch.stats()
		if st.Messages != uint64(total) || st.Queued != 0 {
			t.Fatalf("stats %+v, want %d messages and none queued", st, total)
		}
		// A key sent again is refused as taken; nothing more is stored.
		r := f.req(f.ordered[0], "p0-m3", false)
		// Alone it takes the single-event path, where the unique index refuses it.
		if _, err := f.st.appendMessage(r.tenantID, r.convID, r.ev, r.check, r.seal); !errors.Is(err, errKeyTaken) && !migrations.IsUniqueViolation(err) {
			t.Fatalf("re-sent key: err = %v, want the key refused", err)
		}
		if n := len(f.checkLog(t, f.ordered[0])); n != 3*perPoster {
			t.Fatalf("after the re-sent key the log holds %d events, want %d", n, 3*perPoster)
		}
	})
}

// TestGroupCommitBatchmates: one batch whose messages fail in every way a message can — its
// conversation ended, its seal failed, its key already stored or used earlier in the batch,
// its conversation unknown to its tenant, a row the database refuses — stores all the others
// with gapless seqs, and gives each failure to its own message.
func TestGroupCommitBatchmates(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		f := newBatchFixture(t, db, 3, BatchOptions{})
		ctx := context.Background()
		t0, t1 := f.ordered[0], f.ordered[3] // one conversation of each tenant
		ended := f.ordered[1]
		must(t, migratetest.Beneath(t, db).Gorm.WithContext(migrations.AcrossTenants(ctx)).
			Exec("UPDATE conversations SET status = 'ended' WHERE id = ?", ended).Error)
		first := f.req(t0, "k-first", false)
		if err := f.st.appendBatch(ctx, []*appendReq{first}); err != nil || first.err != nil {
			t.Fatalf("first message: %v / %v", err, first.err)
		}

		sealFails := f.req(t0, "k-seal", false)
		errVault := errors.New("key provider unreachable")
		sealFails.seal = func(int64) (string, error) { return "", errVault }
		foreign := f.req(t1, "k-foreign", false)
		foreign.tenantID = f.tenants[0] // tenant 1's conversation asked for by tenant 0
		refused := f.req(t1, "k-refused", false)
		refused.ev.SenderKind = "robot" // the schema's CHECK refuses the row
		cases := []struct {
			name string
			r    *appendReq
			want error
		}{
			{"stored", f.req(t0, "k-a", false), nil},
			{"ended", f.req(ended, "k-ended", false), ErrEnded},
			{"seal", sealFails, errVault},
			{"stored key", f.req(t0, "k-first", false), errKeyTaken},
			{"other tenant", f.req(t1, "k-b", false), nil},
			{"whisper", f.req(t1, "k-w", true), nil},
			{"key of a batchmate", f.req(t0, "k-a", false), errKeyTaken},
			{"foreign conversation", foreign, ErrNotFound},
			{"refused row", refused, nil},
			{"after them", f.req(t0, "k-c", false), nil},
			{"after them, other tenant", f.req(t1, "k-d", false), nil},
		}
		batch := make([]*appendReq, len(cases))
		for i, c := range cases {
			batch[i] = c.r
		}
		b := newBatcher(f.st, BatchOptions{})
		b.commit(batch)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				select {
				case <-c.r.done:
				default:
					t.Fatal("caller not woken")
				}
				if c.name == "refused row" {
					if c.r.err == nil {
						t.Fatal("the database accepted a row its CHECK refuses")
					}
					return
				}
				if !errors.Is(c.r.err, c.want) {
					t.Fatalf("err = %v, want %v", c.r.err, c.want)
				}
				if c.want == nil && c.r.row.Seq == 0 {
					t.Fatal("stored message has no seq")
				}
			})
		}
		if b.retries.Load() != 1 {
			t.Fatalf("retries = %d, want 1 (the refused row's transaction)", b.retries.Load())
		}
		keys := func(rows []eventRow) []string {
			var out []string
			for _, r := range rows {
				out = append(out, deref(r.IdempotencyKey))
			}
			return out
		}
		if got, want := keys(f.checkLog(t, t0)), []string{"k-first", "k-a", "k-c"}; !slices.Equal(got, want) {
			t.Fatalf("tenant 0's log %v, want %v", got, want)
		}
		if got, want := keys(f.checkLog(t, t1)), []string{"k-b", "k-w", "k-d"}; !slices.Equal(got, want) {
			t.Fatalf("tenant 1's log %v, want %v", got, want)
		}
		if n := len(f.checkLog(t, ended)); n != 0 {
			t.Fatalf("ended conversation holds %d events", n)
		}
	})
}

// TestGroupCommitGroups: messages that arrive while a batch commits go together into the next
// (bounded by MaxSize), and each caller returns only once its own batch committed.
func TestGroupCommitGroups(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		const maxSize, others = 8, 20
		f := newBatchFixture(t, db, 4, BatchOptions{MaxSize: maxSize, MaxWait: -1})
		hold, held := make(chan struct{}), make(chan struct{})
		r0 := f.req(f.ordered[0], "hold", false)
		seal := r0.seal
		r0.seal = func(seq int64) (string, error) {
			close(held)
			<-hold // the first batch is inside its transaction until the others are queued
			return seal(seq)
		}
		first := make(chan error, 1)
		go func() {
			_, err := f.st.appendMessage(r0.tenantID, r0.convID, r0.ev, r0.check, r0.seal)
			first <- err
		}()
		<-held
		errs := make(chan error, others)
		for i := range others {
			r := f.req(f.ordered[i%len(f.ordered)], fmt.Sprint("k", i), false)
			go func() {
				_, err := f.st.appendMessage(r.tenantID, r.convID, r.ev, r.check, r.seal)
				errs <- err
			}()
		}
		for f.st.batch.stats().Queued < others {
			time.Sleep(time.Millisecond)
		}
		select {
		case err := <-errs:
			t.Fatalf("a message returned (%v) before any batch of it committed", err)
		case err := <-first:
			t.Fatalf("the held message returned (%v) inside its transaction", err)
		default:
		}
		close(hold)
		must(t, <-first)
		for range others {
			must(t, <-errs)
		}
		st := f.st.batch.stats()
		want := uint64(1 + (others+maxSize-1)/maxSize)
		if st.Batches != want || st.Messages != others+1 {
			t.Fatalf("stats %+v: want %d batches of %d messages", st, want, others+1)
		}
		for _, c := range f.ordered {
			f.checkLog(t, c)
		}
	})
}

// BenchmarkGroupCommit measures the group commit alone (no sockets, no encryption): 64 posters
// over 32 conversations of two tenants, each sending one message after the other.
func BenchmarkGroupCommit(b *testing.B) {
	for _, d := range migratetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			f := newBatchFixture(b, migratetest.Open(b, d), 16, BatchOptions{})
			posters := 64
			if n, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_POSTERS")); err == nil && n > 0 {
				posters = n
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for p := range posters {
				wg.Go(func() {
					conv := f.ordered[p%len(f.ordered)]
					for m := p; m < b.N; m += posters {
						r := f.req(conv, fmt.Sprint("b", m), false)
						if _, err := f.st.appendMessage(r.tenantID, r.convID, r.ev, r.check, r.seal); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			st := f.st.batch.stats()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			if st.Batches > 0 {
				b.ReportMetric(float64(st.Messages)/float64(st.Batches), "msgs/batch")
				b.ReportMetric(elapsed.Seconds()*1000/float64(st.Batches), "ms/batch")
			}
		})
	}
}

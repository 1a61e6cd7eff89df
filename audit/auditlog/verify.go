package auditlog

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// Report is the result of verifying one tenant's chain.
type Report struct {
	Tenant string `json:"tenant"`
	// Anchor is the signed checkpoint the recomputation started from (0: the genesis).
	Anchor int64 `json:"anchor"`
	// FromSeq and ToSeq are the first and last sequence numbers recomputed.
	FromSeq int64 `json:"from_seq"`
	ToSeq   int64 `json:"to_seq"`
	// Events is how many entries were recomputed.
	Events int64 `json:"events"`
	// Checkpoints is how many checkpoint signatures verified; Matched how many of those the
	// recomputed chain was compared with and agreed.
	Checkpoints int `json:"checkpoints"`
	Matched     int `json:"matched"`
	// Head and HeadHash are the chain head when verification started.
	Head     int64      `json:"head"`
	HeadHash audit.Hash `json:"head_hash"`
	// Damage is the first problem found; nil when the chain is intact.
	Damage *audit.Damage `json:"damage,omitempty"`
}

// OK reports whether no damage was found.
func (r Report) OK() bool { return r.Damage == nil }

// Verify recomputes a tenant's chain and checks it against every signed checkpoint and the
// chain head. With fromSeq ≤ 1 the whole online chain is recomputed from the genesis (or from
// the signed checkpoint that anchors it after an archive), and every stored checkpoint's
// signature is checked. With a larger fromSeq the recomputation starts at the latest signed
// checkpoint before fromSeq, so the events it covers are still vouched for by a signature.
//
// Verify detects modified, deleted, inserted and reordered events, history recomputed without
// the signing key, and truncation after a checkpoint or after the recorded head; Report.Damage
// names the first bad sequence number and the kind of damage. The error is only for failures
// to read the database; damage is not an error. Each page of events read is hashed on all
// cores (audit.HashPool) and then walked in order, which gives the sequential walk's report.
func (l *Log) Verify(ctx context.Context, tenant string, fromSeq int64) (Report, error) {
	return l.VerifyProgress(ctx, tenant, fromSeq, nil)
}

// Progress receives a verification's progress: checked of total events recomputed so far.
// total is the number of events between the walk's start and the chain head when verification
// started; it is called after every page of events and once at the end.
type Progress func(checked, total int64)

// VerifyProgress is Verify reporting its progress to progress (nil reports nothing), for a
// verification the console runs in the background while it shows how far it got.
func (l *Log) VerifyProgress(ctx context.Context, tenant string, fromSeq int64, progress Progress) (Report, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	if progress == nil {
		progress = func(int64, int64) {}
	}
	rep, err := l.verifyOnce(ctx, tenant, fromSeq, progress)
	if err == nil && rep.Damage != nil && rep.Damage.Kind == audit.DamageDeleted {
		// An archive running at the same time removes events legitimately; if the chain
		// now starts after the "missing" events, verify again.
		s, err2 := l.summary(ctx, tenant)
		if err2 == nil && s.minSeq > rep.Damage.Seq {
			return l.verifyOnce(ctx, tenant, fromSeq, progress)
		}
	}
	return rep, err
}

// chainSummary is the chain head and event range, read in one statement.
type chainSummary struct {
	head     int64
	headHash audit.Hash
	hasHead  bool
	minSeq   int64
	maxSeq   int64
	hasRows  bool
}

func (l *Log) summary(ctx context.Context, tenant string) (chainSummary, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	var (
		head, lo, hi sql.NullInt64
		raw          []byte
		s            chainSummary
	)
	if err := l.sql.QueryRowContext(ctx, l.q.chainSummary, tenant, tenant, tenant, tenant).Scan(&head, &raw, &lo, &hi); err != nil {
		return s, fmt.Errorf("read chain summary: %w", err)
	}
	s.head, s.hasHead = head.Int64, head.Valid
	s.headHash, _ = hashFromBytes(raw)
	s.minSeq, s.maxSeq, s.hasRows = lo.Int64, hi.Int64, lo.Valid
	return s, nil
}

func (l *Log) verifyOnce(ctx context.Context, tenant string, fromSeq int64, progress Progress) (Report, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	rep := Report{Tenant: tenant}
	sum, err := l.summary(ctx, tenant)
	if err != nil {
		return rep, err
	}
	rep.Head, rep.HeadHash = sum.head, sum.headHash
	// lowest is the first seq the online chain should hold.
	lowest := sum.minSeq
	if !sum.hasRows {
		lowest = sum.head + 1
	}
	effFrom := max(fromSeq, lowest, 1)

	var (
		anchor   *audit.Checkpoint
		earliest *audit.Damage
	)
	note := func(d *audit.Damage) {
		if d != nil && (earliest == nil || d.Seq < earliest.Seq) {
			earliest = d
		}
	}
	loadFrom := int64(-1) // checkpoints with seq > loadFrom are loaded and checked
	if effFrom > lowest || (lowest > 1 && effFrom == lowest) {
		anchor, err = l.findAnchor(ctx, tenant, lowest-1, effFrom-1)
		if err != nil {
			return rep, err
		}
		if anchor != nil && fromSeq > lowest {
			loadFrom = anchor.Seq - 1
		}
	}
	good, bad, err := l.verifiedCheckpoints(ctx, tenant, loadFrom)
	if err != nil {
		return rep, err
	}
	rep.Checkpoints = len(good)
	note(bad)

	start, prev := int64(1), audit.Hash{}
	switch {
	case anchor != nil:
		start, prev, rep.Anchor = anchor.Seq+1, anchor.Head, anchor.Seq
	case lowest > 1:
		from := int64(1)
		for _, c := range good {
			if c.Seq < lowest-1 {
				from = c.Seq + 1
			}
		}
		note(&audit.Damage{Kind: audit.DamageDeleted, Seq: from,
			Detail: fmt.Sprintf("events %d to %d are missing and no signed checkpoint anchors event %d", from, lowest-1, lowest)})
		start = lowest
	}
	rep.FromSeq = start

	enc := l.hasher()
	defer l.release(enc)
	w := audit.NewWalker(enc, start, prev, good)
	it := l.iterate(tenant, start, sum.head)
	// Each page's entries are hashed on every core; the walk then checks them in order.
	it.pool = audit.NewHashPool(l.verifyWorkers, l.verifyChunk)
	total := max(sum.head-start+1, 0)
	progress(0, total)
	var walkDamage *audit.Damage
	for walkDamage == nil {
		cur, ahead, err := it.next(ctx)
		if err != nil {
			return rep, err
		}
		if cur == nil {
			break
		}
		if n := w.Count(); n > 0 && n%iterPage == 0 {
			progress(n, max(total, n))
		}
		var next *audit.Entry
		if ahead != nil {
			next = &ahead.Entry
		}
		walkDamage = w.StepSum(&cur.Entry, next, cur.bad, cur.sum)
	}
	rep.ToSeq, rep.Events, rep.Matched = w.Next()-1, w.Count(), w.Matched()
	progress(rep.Events, max(total, rep.Events))
	if walkDamage == nil {
		walkDamage, err = l.checkEnd(ctx, tenant, sum, w)
		if err != nil {
			return rep, err
		}
	}
	note(walkDamage)
	rep.Damage = earliest
	return rep, nil
}

// checkEnd compares the end of the walk with the chain head and the remaining checkpoints.
func (l *Log) checkEnd(ctx context.Context, tenant string, sum chainSummary, w *audit.Walker) (*audit.Damage, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	last := w.Next() - 1
	if sum.hasHead {
		switch {
		case last < sum.head:
			return &audit.Damage{Kind: audit.DamageTruncated, Seq: last + 1, Detail: fmt.Sprintf("the chain head records event %d but the chain ends at %d", sum.head, last)}, nil
		case w.Prev() != sum.headHash:
			return &audit.Damage{Kind: audit.DamageModified, Seq: last, Detail: fmt.Sprintf("the chain head's hash disagrees with event %d", last)}, nil
		case sum.hasRows && sum.maxSeq > sum.head:
			return &audit.Damage{Kind: audit.DamageInserted, Seq: sum.head + 1, Detail: fmt.Sprintf("events %d to %d lie beyond the recorded chain head", sum.head+1, sum.maxSeq)}, nil
		}
	} else if sum.hasRows {
		return &audit.Damage{Kind: audit.DamageInserted, Seq: sum.minSeq, Detail: "events exist but the chain has no head record"}, nil
	}
	cp, ok := w.PendingCheckpoint()
	if !ok {
		return nil, nil
	}
	// A checkpoint beyond the walked range is legitimate only if the head has since moved
	// past it; otherwise the events it vouches for were cut off.
	headNow, _, err := l.Head(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if cp.Seq > headNow {
		return &audit.Damage{Kind: audit.DamageTruncated, Seq: last + 1, CheckpointSeq: cp.Seq,
			Detail: fmt.Sprintf("a signed checkpoint vouches for events up to %d but the chain ends at %d", cp.Seq, headNow)}, nil
	}
	return nil, nil
}

// findAnchor returns the latest checkpoint with lo ≤ seq ≤ hi whose signature verifies, or nil.
func (l *Log) findAnchor(ctx context.Context, tenant string, lo, hi int64) (*audit.Checkpoint, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	for hi >= lo {
		rows, err := l.sql.QueryContext(ctx, l.q.cpBelow, tenant, lo, hi, 64)
		if err != nil {
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
		cps, err := scanCheckpoints(rows)
		if err != nil {
			return nil, err
		}
		for i := range cps {
			if l.keys.Verify(cps[i].KeyID, cps[i].Message(), cps[i].Signature) == nil {
				return &cps[i], nil
			}
		}
		if len(cps) < 64 {
			return nil, nil
		}
		hi = cps[len(cps)-1].Seq - 1
	}
	return nil, nil
}

// verifiedCheckpoints loads the tenant's checkpoints with seq > after, checks each signature
// and returns the good ones in order and the first bad one as damage.
func (l *Log) verifiedCheckpoints(ctx context.Context, tenant string, after int64) ([]audit.CheckpointRef, *audit.Damage, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	var (
		good []audit.CheckpointRef
		bad  *audit.Damage
	)
	for {
		cps, err := l.checkpointsBetween(ctx, tenant, after, maxSeq, 1000)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range cps {
			if err := l.keys.Verify(c.KeyID, c.Message(), c.Signature); err != nil {
				if bad == nil {
					bad = &audit.Damage{Kind: audit.DamageCheckpoint, Seq: c.Seq, CheckpointSeq: c.Seq, Detail: fmt.Sprintf("checkpoint at %d: %v", c.Seq, err)}
				}
				continue
			}
			good = append(good, audit.CheckpointRef{Seq: c.Seq, Head: c.Head})
		}
		if len(cps) < 1000 {
			return good, bad, nil
		}
		after = cps[len(cps)-1].Seq
	}
}

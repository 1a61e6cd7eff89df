package audit

import "fmt"

// DamageKind classifies what verification found wrong with a chain.
type DamageKind string

// The kinds of damage verification reports.
const (
	// DamageModified: an event's content or hash was altered.
	DamageModified DamageKind = "modified"
	// DamageDeleted: an event is missing (a gap, or a removal with the later events
	// renumbered), or the chain starts late with no signed checkpoint anchoring the start.
	DamageDeleted DamageKind = "deleted"
	// DamageInserted: an event that was never appended sits in the chain (two events claim
	// the same predecessor, or events lie beyond the recorded head).
	DamageInserted DamageKind = "inserted"
	// DamageReordered: events were swapped or moved.
	DamageReordered DamageKind = "reordered"
	// DamageTruncated: events after a signed checkpoint, or after the recorded head, are gone.
	DamageTruncated DamageKind = "truncated"
	// DamageRewritten: the chain is self-consistent but disagrees with a signed checkpoint:
	// history was recomputed by someone without the signing key. Seq is the first event
	// after the last checkpoint that still matches.
	DamageRewritten DamageKind = "rewritten"
	// DamageCheckpoint: a checkpoint's signature is invalid or made with an untrusted key.
	DamageCheckpoint DamageKind = "bad_checkpoint"
	// DamageBundle: an export bundle's manifest, file hashes or manifest signature do not
	// match its contents.
	DamageBundle DamageKind = "bundle"
)

// Damage is the first problem verification found.
type Damage struct {
	Kind DamageKind `json:"kind"`
	// Seq is the first bad sequence number (0 for bundle-level damage).
	Seq int64 `json:"seq"`
	// CheckpointSeq is the checkpoint involved, for rewritten, truncated and bad_checkpoint.
	CheckpointSeq int64  `json:"checkpoint_seq,omitempty"`
	Detail        string `json:"detail"`
}

// String renders the damage for logs and the CLI.
func (d *Damage) String() string {
	if d == nil {
		return "intact"
	}
	return fmt.Sprintf("%s at seq %d: %s", d.Kind, d.Seq, d.Detail)
}

// CheckpointRef is a checkpoint whose signature already verified: the chain must have hash
// Head at Seq.
type CheckpointRef struct {
	Seq  int64
	Head Hash
}

// Walker recomputes a chain one entry at a time and classifies the first damage. It looks at
// the entry before (its stored prev hash) and the entry after (one-entry look-ahead) to tell
// modification, insertion, deletion and reordering apart. The database verifier and the
// offline bundle verifier both walk with it, hashing each batch of entries on a HashPool first
// and walking it with StepSum.
type Walker struct {
	enc      *Hasher
	expected int64 // seq the next entry must have
	prev     Hash  // recomputed hash of the previous entry (or the anchor)
	lastPrev Hash  // stored PrevHash of the previous entry
	hasLast  bool  // an entry was walked (lastPrev is meaningful)
	trusted  int64 // highest seq a matching signed checkpoint (or the anchor) vouches for
	cps      []CheckpointRef
	cpi      int
	count    int64
	matched  int
}

// NewWalker starts a walk at seq start, following the anchor hash (the zero Hash at seq 1, or
// the head of a signed checkpoint at start-1). cps are the verified checkpoints, ascending;
// those before start are ignored.
func NewWalker(h *Hasher, start int64, anchor Hash, cps []CheckpointRef) *Walker {
	w := &Walker{enc: h, expected: start, prev: anchor, trusted: start - 1, cps: cps}
	for w.cpi < len(w.cps) && w.cps[w.cpi].Seq < start {
		w.cpi++
	}
	return w
}

// Next is the seq the next entry must have.
func (w *Walker) Next() int64 { return w.expected }

// Prev is the recomputed hash of the last entry walked (the anchor before any).
func (w *Walker) Prev() Hash { return w.prev }

// Count is how many entries were walked without damage.
func (w *Walker) Count() int64 { return w.count }

// Matched is how many checkpoints the walk reached and agreed with.
func (w *Walker) Matched() int { return w.matched }

// Step walks cur; ahead is the entry after it, if any (nil at the end or when it could not be
// decoded). bad is non-empty when cur itself could not be decoded, and says why. Step returns
// the damage found at cur, and the walk must then stop.
func (w *Walker) Step(cur, ahead *Entry, bad string) *Damage {
	return w.step(cur, ahead, bad, nil)
}

// StepSum is Step with cur's own hash already recomputed: sum must be Hasher.Sum(cur), as a
// HashPool computes it for a batch of entries on several cores. The result is the same as
// Step's.
func (w *Walker) StepSum(cur, ahead *Entry, bad string, sum Hash) *Damage {
	return w.step(cur, ahead, bad, &sum)
}

// ownSum returns SHA-256(canonical(cur) ‖ cur.PrevHash): sum when given, else computed.
func (w *Walker) ownSum(cur *Entry, sum *Hash) Hash {
	if sum != nil {
		return *sum
	}
	return w.enc.Sum(cur)
}

func (w *Walker) step(cur, ahead *Entry, bad string, sum *Hash) *Damage {
	s := cur.Seq
	if s != w.expected {
		switch {
		case s < w.expected:
			return &Damage{Kind: DamageInserted, Seq: s, Detail: fmt.Sprintf("a second event %d appears after event %d", s, w.expected-1)}
		case ahead != nil && ahead.Seq == w.expected:
			return &Damage{Kind: DamageReordered, Seq: w.expected, Detail: fmt.Sprintf("event %d appears before event %d", s, w.expected)}
		}
		return &Damage{Kind: DamageDeleted, Seq: w.expected, Detail: fmt.Sprintf("events %d to %d are missing", w.expected, s-1)}
	}
	if bad != "" {
		return &Damage{Kind: DamageModified, Seq: s, Detail: bad}
	}
	p := w.prev
	aheadFollowsP := func() bool { return ahead != nil && ahead.Seq == s+1 && ahead.PrevHash == p }
	if cur.PrevHash == p {
		if w.ownSum(cur, sum) != cur.Hash { // cur.PrevHash == p
			if aheadFollowsP() {
				return &Damage{Kind: DamageInserted, Seq: s, Detail: fmt.Sprintf("event %d does not hash correctly and event %d claims the same predecessor", s, s+1)}
			}
			return &Damage{Kind: DamageModified, Seq: s, Detail: fmt.Sprintf("event %d does not match its hash", s)}
		}
	} else if d := w.unlinked(cur, ahead, aheadFollowsP(), sum); d != nil {
		return d
	}
	w.lastPrev, w.hasLast = cur.PrevHash, true
	w.prev = cur.Hash
	w.expected = s + 1
	w.count++
	for w.cpi < len(w.cps) && w.cps[w.cpi].Seq == s {
		cp := w.cps[w.cpi]
		w.cpi++
		if cp.Head != w.prev {
			return &Damage{Kind: DamageRewritten, Seq: w.trusted + 1, CheckpointSeq: cp.Seq,
				Detail: fmt.Sprintf("events %d to %d disagree with the signed checkpoint at %d", w.trusted+1, s, cp.Seq)}
		}
		w.trusted = s
		w.matched++
	}
	return nil
}

// unlinked classifies an entry whose stored PrevHash is not the previous entry's hash.
func (w *Walker) unlinked(cur, ahead *Entry, aheadFollowsP bool, sum *Hash) *Damage {
	s := cur.Seq
	prevIsEvent := w.hasLast && s-1 > w.trusted
	switch {
	case prevIsEvent && cur.PrevHash == w.lastPrev:
		return &Damage{Kind: DamageInserted, Seq: s - 1, Detail: fmt.Sprintf("events %d and %d claim the same predecessor: event %d was inserted", s-1, s, s-1)}
	case aheadFollowsP && cur.PrevHash == ahead.Hash:
		return &Damage{Kind: DamageReordered, Seq: s, Detail: fmt.Sprintf("events %d and %d are swapped", s, s+1)}
	case aheadFollowsP:
		return &Damage{Kind: DamageInserted, Seq: s, Detail: fmt.Sprintf("event %d does not belong to the chain; event %d follows event %d", s, s+1, s-1)}
	}
	renum := cur.Event
	renum.Seq = s + 1
	if w.enc.Chain(&renum, cur.PrevHash) == cur.Hash {
		return &Damage{Kind: DamageDeleted, Seq: s, Detail: fmt.Sprintf("event %d was removed and the later events renumbered", s)}
	}
	if prevIsEvent && w.ownSum(cur, sum) == cur.Hash {
		return &Damage{Kind: DamageModified, Seq: s - 1, Detail: fmt.Sprintf("event %d is intact but does not follow event %d: event %d was altered and rehashed", s, s-1, s-1)}
	}
	return &Damage{Kind: DamageModified, Seq: s, Detail: fmt.Sprintf("event %d does not link to event %d", s, s-1)}
}

// PendingCheckpoint returns the first signed checkpoint the walk has not reached: after the
// last entry, one at or below the chain's end means events it vouches for are gone.
func (w *Walker) PendingCheckpoint() (CheckpointRef, bool) {
	if w.cpi < len(w.cps) {
		return w.cps[w.cpi], true
	}
	return CheckpointRef{}, false
}

package pan

import (
	"container/list"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Split detector defaults.
const (
	// DefaultSplitWindow is how long a sender's messages are remembered.
	DefaultSplitWindow = 2 * time.Minute
	// DefaultSplitMessages is how many earlier messages of a sender are
	// remembered.
	DefaultSplitMessages = 8
	// DefaultSplitSenders bounds the number of senders remembered at once.
	DefaultSplitSenders = 10000
	// contextCandidates bounds the expiry dates and codes remembered per
	// message.
	contextCandidates = 4
)

// SplitOptions configures a SplitDetector. Zero values select the defaults.
type SplitOptions struct {
	// Window is how long a message counts as recent.
	Window time.Duration
	// MaxMessages is how many recent messages per sender are remembered.
	MaxMessages int
	// MaxSenders bounds memory: beyond it the least recently active
	// sender is forgotten.
	MaxSenders int
	// Now is the clock.
	Now func() time.Time
}

// SplitDetector masks card data that one sender spreads over consecutive
// messages, as visitors do ("4111 1111" then "1111 1111"), in addition to
// what Masker.Mask finds within each message. It remembers, per sender and
// for at most Window and MaxMessages messages:
//
//   - the digits that close the sender's recent messages (at most 18 digits
//     as typed, masked or not, and their offsets in the delivered text). A
//     card number is detected across messages when the digits closing the
//     earlier messages and the digits opening the current one form a card
//     number by the rules of Find, the message boundary (with any spaces,
//     separators and light punctuation around it) counting as a group
//     separator of any family. A message that holds nothing but digits
//     extends the chain; any other text breaks it;
//   - whether the sender recently sent a card number: then an expiry date or
//     a security code at the start of the next messages ("exp 12/26",
//     "123") is masked too, within ContextRunes of the message start;
//   - the expiry dates and keyword-introduced codes of recent messages
//     ("cvv 123" sent before the card number), reported when a card number
//     follows.
//
// Earlier messages have already been delivered. Their part of a split card
// number, and their expiry dates and codes, are reported in
// SplitResult.Previous so that the caller masks the stored copies with
// Masker.MaskFragments; offsets refer to the text Mask returned for them.
//
// A SplitDetector is safe for concurrent use. The remembered digits are
// overwritten with zeros when they are dropped.
type SplitDetector struct {
	masker     *Masker
	window     time.Duration
	maxMsgs    int
	maxSenders int
	now        func() time.Time

	mu      sync.Mutex
	senders map[string]*list.Element
	lru     *list.List // front: most recently active; values *senderState
}

// recentMessage is what the detector remembers of one message.
type recentMessage struct {
	id   string
	seq  uint64
	at   time.Time
	ctx  [contextCandidates]Span
	nctx int
}

// senderState is the memory kept for one sender.
type senderState struct {
	key      string
	seq      uint64 // sequence number of the sender's last message
	last     time.Time
	msgs     []recentMessage // oldest first
	chain    [chainDigits]edgeDigit
	nchain   int
	panAt    time.Time // when the sender last sent a card number
	sincePAN int       // messages since then
}

// SplitResult describes what SplitDetector.Mask found in one message.
// Offsets of Result, Split and FollowUp refer to the input text.
type SplitResult struct {
	// Result holds what was found within the message itself.
	Result
	// Split are the card numbers that began in earlier messages: Start and
	// End cover this message's part, Brand and Digits the whole number.
	Split []Match
	// FollowUp are the expiry dates and codes masked because the sender
	// sent a card number just before.
	FollowUp []Span
	// Previous are the parts of earlier messages that must now be masked in
	// their stored copies (MessageID set; offsets into the text delivered
	// for that message).
	Previous []Fragment
}

// Found reports whether a card number was found in or through the message.
func (r SplitResult) Found() bool { return len(r.Matches) > 0 || len(r.Split) > 0 }

// NewSplitDetector returns a detector that masks with m. It returns an
// error wrapping ErrInvalidOption for a nil Masker or negative options.
func NewSplitDetector(m *Masker, o SplitOptions) (*SplitDetector, error) {
	if m == nil {
		return nil, fmt.Errorf("nil masker: %w", ErrInvalidOption)
	}
	if o.Window < 0 || o.MaxMessages < 0 || o.MaxSenders < 0 {
		return nil, fmt.Errorf("negative split option: %w", ErrInvalidOption)
	}
	d := &SplitDetector{
		masker:     m,
		window:     o.Window,
		maxMsgs:    o.MaxMessages,
		maxSenders: o.MaxSenders,
		now:        o.Now,
		senders:    make(map[string]*list.Element),
		lru:        list.New(),
	}
	if d.window == 0 {
		d.window = DefaultSplitWindow
	}
	if d.maxMsgs == 0 {
		d.maxMsgs = DefaultSplitMessages
	}
	if d.maxSenders == 0 {
		d.maxSenders = DefaultSplitSenders
	}
	if d.now == nil {
		d.now = time.Now
	}
	return d, nil
}

// Mask masks text, the message messageID of sender, and returns the text to
// deliver and store. Messages of one sender must be passed in order.
func (d *SplitDetector) Mask(sender, messageID, text string) (string, SplitResult) {
	res, found := d.masker.analyze(text)
	var lead edgeRun
	hasLead := leadingRun(text, 0, &lead)

	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	st := d.state(sender, now)
	st.expire(now.Add(-d.window))
	seq := st.seq + 1
	for k := 0; k < lead.n; k++ {
		lead.d[k].seq = seq
	}

	out := SplitResult{Result: res}
	var frags []Fragment
	if found {
		frags = d.masker.appendFragments(frags, res)
	}
	if hasLead && st.nchain > 0 {
		frags = d.split(st, &lead, &out, frags)
	}
	pan := found || len(out.Split) > 0
	if ctx := d.masker.ctxRunes; ctx > 0 {
		if !pan && !st.panAt.IsZero() && !st.panAt.Before(now.Add(-d.window)) && st.sincePAN < d.maxMsgs {
			out.FollowUp = appendContext(out.FollowUp, text, 0, ctx, true)
		}
		for _, sm := range out.Split {
			hi := len(text)
			for _, mt := range res.Matches {
				if mt.Start >= sm.End {
					hi = mt.Start
					break
				}
			}
			out.FollowUp = appendContext(out.FollowUp, text[:hi], sm.End, ctx, true)
		}
		for _, sp := range out.FollowUp {
			frags = append(frags, Fragment{Start: sp.Start, End: sp.End})
		}
	}
	if pan {
		for i := range st.msgs {
			msg := &st.msgs[i]
			for _, sp := range msg.ctx[:msg.nctx] {
				out.Previous = append(out.Previous, Fragment{MessageID: msg.id, Start: sp.Start, End: sp.End})
			}
			msg.ctx = [contextCandidates]Span{}
			msg.nctx = 0
		}
		st.panAt, st.sincePAN = now, 0
	} else {
		st.sincePAN++
	}
	var hide []int
	if len(frags) > 0 {
		hide = d.masker.hidden(text, frags)
	}
	masked := d.masker.build(text, hide)
	st.remember(d.masker, seq, messageID, now, text, masked, hide, !pan, d.maxMsgs)
	return masked, out
}

// split finds the card numbers that end in the current message's leading
// run and begin in the remembered chain of earlier messages.
func (d *SplitDetector) split(st *senderState, lead *edgeRun, out *SplitResult, frags []Fragment) []Fragment {
	var comb [chainDigits + MaxDigits]edgeDigit
	nc := copy(comb[:], st.chain[:st.nchain])
	n := nc + copy(comb[nc:], lead.d[:lead.n])
	type window struct {
		s, e  int
		brand Brand
	}
	var wins [MaxDigits]window
	nw := 0
	var vals [MaxDigits]uint8
	for e := nc; e < n; e++ {
		if e+1 < n && !comb[e+1].groupStart || e+1 == n && lead.total > lead.n {
			continue
		}
		for l := min(MaxDigits, e+1); l >= MinDigits; l-- {
			s := e - l + 1
			if s >= nc {
				break
			}
			if !comb[s].groupStart || !chainConsistent(comb[s+1:e+1]) {
				continue
			}
			for k := 0; k < l; k++ {
				vals[k] = comb[s+k].val
			}
			if b, ok := classify(vals[:l]); ok {
				for nw > 0 && wins[nw-1].s >= s {
					nw-- // contained in the new, longer window
				}
				wins[nw] = window{s: s, e: e, brand: b}
				nw++
				break
			}
		}
	}
	for _, w := range wins[:nw] {
		l := w.e - w.s + 1
		front := d.masker.keepFront(l)
		a := nc - w.s // ordinal of the first digit in this message
		cur := Fragment{
			Start:     comb[nc].start,
			End:       comb[w.e].end,
			KeepFront: max(0, front-a),
			KeepBack:  min(LastDigits, l-a),
		}
		frags = append(frags, cur)
		out.Split = append(out.Split, Match{Start: cur.Start, End: cur.End, Brand: w.brand, Digits: l})
		for k0 := w.s; k0 < nc; {
			k1 := k0
			for k1 < nc && comb[k1].seq == comb[k0].seq {
				k1++
			}
			a1, b1 := k0-w.s, k1-w.s
			out.Previous = append(out.Previous, Fragment{
				MessageID: st.messageID(comb[k0].seq),
				Start:     comb[k0].start,
				End:       comb[k1-1].end,
				KeepFront: min(max(0, front-a1), b1-a1),
				KeepBack:  min(max(0, b1-(l-LastDigits)), b1-a1),
			})
			k0 = k1
		}
	}
	return frags
}

// chainConsistent reports whether the separators before the digits ds
// (message boundaries aside) belong to one family.
func chainConsistent(ds []edgeDigit) bool {
	class := sepNone
	for i := range ds {
		c := ds[i].class
		if !ds[i].groupStart || c == sepBoundary {
			continue
		}
		if class == sepNone {
			class = c
		} else if c != class {
			return false
		}
	}
	return true
}

// Forget drops everything remembered about sender, for instance when the
// conversation ends.
func (d *SplitDetector) Forget(sender string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if el, ok := d.senders[sender]; ok {
		d.drop(el)
	}
}

// ForgetPrefix drops everything remembered about every sender whose key
// starts with prefix — all the senders of one conversation when it ends,
// whoever took part. It visits every remembered sender.
func (d *SplitDetector) ForgetPrefix(prefix string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for key, el := range d.senders {
		if strings.HasPrefix(key, prefix) {
			d.drop(el)
		}
	}
}

// Senders returns how many senders are currently remembered.
func (d *SplitDetector) Senders() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.senders)
}

// state returns the sender's state, creating it and forgetting idle or
// least recently active senders as needed. The caller holds d.mu.
func (d *SplitDetector) state(sender string, now time.Time) *senderState {
	idle := now.Add(-d.window)
	for i := 0; i < 2; i++ {
		back := d.lru.Back()
		if back == nil || !back.Value.(*senderState).last.Before(idle) {
			break
		}
		d.drop(back)
	}
	if el, ok := d.senders[sender]; ok {
		d.lru.MoveToFront(el)
		st := el.Value.(*senderState)
		st.last = now
		return st
	}
	for len(d.senders) >= d.maxSenders {
		d.drop(d.lru.Back())
	}
	st := &senderState{key: sender, last: now}
	d.senders[sender] = d.lru.PushFront(st)
	return st
}

// drop forgets one sender. The caller holds d.mu.
func (d *SplitDetector) drop(el *list.Element) {
	st := el.Value.(*senderState)
	st.wipe()
	delete(d.senders, st.key)
	d.lru.Remove(el)
}

// wipe overwrites the remembered digits and offsets.
func (st *senderState) wipe() {
	st.chain = [chainDigits]edgeDigit{}
	st.nchain = 0
	clear(st.msgs)
	st.msgs = st.msgs[:0]
}

// expire forgets the messages older than cutoff and their digits.
func (st *senderState) expire(cutoff time.Time) {
	k := 0
	for k < len(st.msgs) && st.msgs[k].at.Before(cutoff) {
		k++
	}
	st.dropMessages(k)
}

// dropMessages forgets the k oldest messages and the digits they left in
// the chain.
func (st *senderState) dropMessages(k int) {
	if k == 0 {
		return
	}
	if k >= len(st.msgs) {
		st.wipe()
		return
	}
	oldest := st.msgs[k].seq
	n := copy(st.msgs, st.msgs[k:])
	clear(st.msgs[n:])
	st.msgs = st.msgs[:n]
	j := 0
	for j < st.nchain && st.chain[j].seq < oldest {
		j++
	}
	if j > 0 {
		m := copy(st.chain[:], st.chain[j:st.nchain])
		clear(st.chain[m:])
		st.nchain = m
	}
}

// messageID returns the id of the remembered message seq.
func (st *senderState) messageID(seq uint64) string {
	for i := range st.msgs {
		if st.msgs[i].seq == seq {
			return st.msgs[i].id
		}
	}
	return ""
}

// remember records message seq: the digits closing its text extend or
// replace the chain (with their offsets in the delivered text, which has
// the runes at hide masked), and when it held no card number the expiry
// dates and codes left readable in the delivered text are kept as
// candidates.
func (st *senderState) remember(m *Masker, seq uint64, id string, now time.Time, text, delivered string, hide []int, candidates bool, maxMsgs int) {
	st.seq = seq
	msg := recentMessage{id: id, seq: seq, at: now}
	if candidates && hasDigit(delivered) {
		var buf [contextCandidates]Span
		spans := appendContext(buf[:0], delivered, 0, len(delivered), false)
		if len(spans) > contextCandidates {
			spans = spans[len(spans)-contextCandidates:]
		}
		msg.nctx = copy(msg.ctx[:], spans)
	}
	var tr edgeRun
	ok := trailingRun(text, seq, &tr)
	if ok && len(hide) > 0 {
		for k := range tr.d[:tr.n] {
			dg := &tr.d[k]
			dg.start, dg.end = m.shifted(text, hide, dg.start), m.shifted(text, hide, dg.end)
		}
	}
	switch {
	case !ok:
		st.chain = [chainDigits]edgeDigit{}
		st.nchain = 0
	case tr.whole && st.nchain > 0 && st.chainEndsAt(seq-1):
		for _, dg := range tr.d[:tr.n] {
			if st.nchain == chainDigits {
				copy(st.chain[:], st.chain[1:])
				st.nchain--
			}
			st.chain[st.nchain] = dg
			st.nchain++
		}
	default:
		st.chain = [chainDigits]edgeDigit{}
		st.nchain = copy(st.chain[:], tr.d[:tr.n])
	}
	st.msgs = append(st.msgs, msg)
	if len(st.msgs) > maxMsgs {
		st.dropMessages(len(st.msgs) - maxMsgs)
	}
}

// chainEndsAt reports whether the chain's last digit comes from message seq.
func (st *senderState) chainEndsAt(seq uint64) bool {
	return st.nchain > 0 && st.chain[st.nchain-1].seq == seq
}

// hasDigit reports whether s contains a decimal digit of any script.
func hasDigit(s string) bool {
	for i := 0; i < len(s); {
		r, w := decodeRune(s, i)
		if digitValue(r) >= 0 {
			return true
		}
		i += w
	}
	return false
}

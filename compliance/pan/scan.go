package pan

import "unicode/utf8"

// Match is one card number found in a text. Start and End are byte offsets
// into the scanned text: Start is the first byte of the first digit and End
// is just past the last digit, so s[Start:End] includes the separators and
// invisible characters written between the digits. Match never holds the
// digits themselves.
type Match struct {
	Start  int
	End    int
	Brand  Brand
	Digits int
}

// ringSize is the capacity of the scanner's digit and window rings; a power
// of two larger than MaxDigits plus the look-back a window needs.
const ringSize = 32

// digitInfo is one digit of the run being scanned.
type digitInfo struct {
	start, end int
	val        uint8
	groupStart bool     // first digit of a group (after a separator or the run start)
	class      sepClass // family of the separator before a group start (sepNone for the run start)
}

// pendingWindow is a detected card number not yet reported because a longer
// one that contains it may still follow.
type pendingWindow struct {
	m        Match
	startIdx int // index of the window's first digit within its run
}

// scanner finds card numbers in a string without allocating. A run is a
// maximal sequence of digits in which two neighbours are separated by
// nothing, by invisible characters, or by one separator (plus invisible
// characters). A separator starts a new group. A card number is a window of
// whole consecutive groups of a run (it starts at a group start and ends at
// a group end) with 13–19 digits, the same separator family throughout, a
// row of the IIN table and, for Luhn brands, a valid check digit. Of the
// windows ending at the same group end only the longest is kept, and a
// window contained in another is not reported: masking the outer window
// hides every digit the inner one would.
type scanner struct {
	s     string
	pos   int // next byte to examine
	inRun bool
	plus  bool // the current run follows a plus sign
	n     int  // digits in the current run
	ring  [ringSize]digitInfo
	q     [ringSize]pendingWindow
	qh    int // index of the oldest pending window
	ql    int // number of pending windows
}

// reset prepares the scanner for s.
func (sc *scanner) reset(s string) {
	sc.s = s
	sc.pos = 0
	sc.inRun = false
	sc.n = 0
	sc.qh, sc.ql = 0, 0
}

// next returns the next card number in order of position.
func (sc *scanner) next() (Match, bool) {
	for {
		if sc.ql > 0 {
			h := &sc.q[sc.qh]
			// A window that starts more than MaxDigits digits before the
			// newest digit cannot be contained in any later window.
			if !sc.inRun || h.startIdx+MaxDigits < sc.n || sc.ql == ringSize {
				m := h.m
				sc.qh = (sc.qh + 1) & (ringSize - 1)
				sc.ql--
				return m, true
			}
		}
		if !sc.inRun {
			if !sc.startRun() {
				return Match{}, false
			}
			continue
		}
		sc.step()
	}
}

// startRun looks for the next digit from sc.pos and starts a run there.
func (sc *scanner) startRun() bool {
	s := sc.s
	i := sc.pos
	for i < len(s) {
		// Skip eight plain bytes at a time, then look at the next eight
		// one by one.
		i = skipPlain(s, i)
		for end := min(i+8, len(s)); i < end; {
			b := s[i]
			if b < utf8.RuneSelf {
				if b-'0' <= 9 {
					sc.begin(i, i+1, b-'0')
					return true
				}
				i++
				continue
			}
			if w := digitFreeRune(s, i); w > 0 {
				i += w
				continue
			}
			r, w := utf8.DecodeRuneInString(s[i:])
			if v := ndValue(r); v >= 0 {
				sc.begin(i, i+w, uint8(v)) // #nosec G115 -- v is a digit value 0..9
				return true
			}
			i += w
		}
	}
	sc.pos = len(s)
	return false
}

// digitFreeRune returns the width of the well-formed multi-byte rune at
// s[i:] when its lead byte alone shows it is not a digit (U+0080–U+063F,
// U+2000–U+9FFF, U+B000–U+EFFF: Latin, Greek, Cyrillic, Hebrew, CJK,
// Hangul…), and 0 when it must be decoded.
func digitFreeRune(s string, i int) int {
	b := s[i]
	switch {
	case b >= 0xC2 && b <= 0xD8:
		if i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
			return 2
		}
	case b >= 0xE2 && b <= 0xE9 || b >= 0xEB && b <= 0xEE:
		if i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 {
			return 3
		}
	}
	return 0
}

// begin starts a run with the digit s[start:end] of value v.
func (sc *scanner) begin(start, end int, v uint8) {
	sc.inRun = true
	sc.n = 0
	sc.plus = precededByPlus(sc.s, start)
	sc.push(start, end, v, true, sepNone)
	sc.pos = end
}

// precededByPlus reports whether the rune before byte i is a plus sign.
func precededByPlus(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return isPlus(r)
}

// push appends a digit to the current run.
func (sc *scanner) push(start, end int, v uint8, groupStart bool, class sepClass) {
	sc.ring[sc.n&(ringSize-1)] = digitInfo{start: start, end: end, val: v, groupStart: groupStart, class: class}
	sc.n++
}

// step consumes the gap after the last digit of the run and the digit that
// follows it, or ends the run when no digit follows.
func (sc *scanner) step() {
	s := sc.s
	q := sc.pos
	ign := 0
	class := sepNone
	for q < len(s) {
		r, w := decodeRune(s, q)
		if v := digitValue(r); v >= 0 {
			if class != sepNone {
				sc.groupEnd()
			}
			sc.push(q, q+w, uint8(v), class != sepNone, class) // #nosec G115 -- v is a digit value 0..9
			sc.pos = q + w
			return
		}
		if isIgnorable(r) {
			ign++
			if ign > maxGapIgnorables {
				break
			}
			q += w
			continue
		}
		if class == sepNone {
			if c := separatorClass(r); c != sepNone {
				class = c
				q += w
				continue
			}
		}
		break
	}
	sc.groupEnd()
	sc.inRun = false
	sc.pos = q
}

// groupEnd evaluates the windows that end with the current last digit of
// the run, longest first, and queues the longest card number among them.
func (sc *scanner) groupEnd() {
	n := sc.n
	if n < MinDigits {
		return
	}
	var vals [MaxDigits]uint8
	for l := min(n, MaxDigits); l >= MinDigits; l-- {
		st := n - l
		first := &sc.ring[st&(ringSize-1)]
		if !first.groupStart {
			continue
		}
		if st == 0 && sc.plus && l <= 15 {
			// "+49 1512 3456789": an international phone number (E.164
			// numbers have at most 15 digits), not a card.
			continue
		}
		if !sc.consistent(st, n) {
			continue
		}
		for k := 0; k < l; k++ {
			vals[k] = sc.ring[(st+k)&(ringSize-1)].val
		}
		if b, ok := classify(vals[:l]); ok {
			last := &sc.ring[(n-1)&(ringSize-1)]
			sc.enqueue(pendingWindow{m: Match{Start: first.start, End: last.end, Brand: b, Digits: l}, startIdx: st})
			return
		}
	}
}

// consistent reports whether every separator inside the digits [st, n) of
// the run belongs to the same family.
func (sc *scanner) consistent(st, n int) bool {
	class := sepNone
	for k := st + 1; k < n; k++ {
		d := &sc.ring[k&(ringSize-1)]
		if !d.groupStart {
			continue
		}
		if class == sepNone {
			class = d.class
		} else if d.class != class {
			return false
		}
	}
	return true
}

// enqueue adds a window, dropping the pending windows it contains.
func (sc *scanner) enqueue(w pendingWindow) {
	for sc.ql > 0 {
		t := &sc.q[(sc.qh+sc.ql-1)&(ringSize-1)]
		if t.startIdx < w.startIdx {
			break
		}
		sc.ql--
	}
	sc.q[(sc.qh+sc.ql)&(ringSize-1)] = w
	sc.ql++
}

// Contains reports whether s contains a card number. It does not allocate.
func Contains(s string) bool {
	var sc scanner
	sc.reset(s)
	_, ok := sc.next()
	return ok
}

// AppendMatches appends the card numbers found in s to dst, in order of
// position, and returns the extended slice. Matches never nest; they may
// overlap when two card numbers share digit groups. With enough capacity in
// dst it does not allocate.
func AppendMatches(dst []Match, s string) []Match {
	var sc scanner
	sc.reset(s)
	for {
		m, ok := sc.next()
		if !ok {
			return dst
		}
		dst = append(dst, m)
	}
}

// Find returns the card numbers found in s, or nil when there is none.
func Find(s string) []Match {
	return AppendMatches(nil, s)
}

// SWAR constants for skipPlain.
const (
	lo7  = 0x7f7f7f7f7f7f7f7f
	hi1  = 0x8080808080808080
	ones = 0x0101010101010101
)

// skipPlain returns the offset of the first 8-byte word at or after i that
// holds an ASCII digit or a non-ASCII byte (or the tail of s), testing eight
// bytes at a time. Text without digits is the common case on the chat path.
func skipPlain(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if x&hi1 != 0 {
			return i
		}
		// Bytes are below 0x80 here. Adding 0x80-'0' sets the high bit of
		// the bytes >= '0'; adding 0x80-('9'+1) sets it for those > '9'.
		ge0 := (x + (0x80-'0')*ones) & hi1
		gt9 := (x + (0x80-('9'+1))*ones) & hi1
		if ge0&^gt9 != 0 {
			return i
		}
	}
	return i
}

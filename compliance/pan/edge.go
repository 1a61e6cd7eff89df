package pan

import (
	"unicode"
	"unicode/utf8"
)

// sepBoundary marks the first digit of a message in a chain of fragments:
// the boundary between two messages separates groups like any separator.
const sepBoundary sepClass = 0xFF

// chainDigits is how many digits of earlier messages a split card number
// can use: it must also have at least one digit in the current message.
const chainDigits = MaxDigits - 1

// edgeDigit is one digit of a run at the edge of a message.
type edgeDigit struct {
	seq        uint64 // the message's sequence number within its sender
	start, end int
	val        uint8
	groupStart bool
	class      sepClass
}

// edgeRun is the run of digits at the start or at the end of a message.
type edgeRun struct {
	d     [MaxDigits]edgeDigit // the first (leading) or last (trailing) digits
	n     int                  // digits held in d
	total int                  // digits in the whole run
	whole bool                 // nothing but edge characters around the run
}

// isEdge reports whether r may stand between a fragment of a card number
// and the start or end of its message: spaces, separators, invisible
// characters and light punctuation.
func isEdge(r rune) bool {
	switch r {
	case ',', ';', ':', '\u2026':
		return true
	}
	return unicode.IsSpace(r) || isIgnorable(r) || separatorClass(r) != sepNone
}

// walkRun calls fn for each digit of the run that starts at s[i] (a digit)
// and returns the offset just past its last digit.
func walkRun(s string, i int, fn func(start, end int, v uint8, groupStart bool, class sepClass)) int {
	r, w := decodeRune(s, i)
	fn(i, i+w, uint8(digitValue(r)), true, sepBoundary) // #nosec G115 -- s[i] is a digit, value 0..9
	last := i + w
	q := last
	ign, class := 0, sepNone
	for q < len(s) {
		r, w = decodeRune(s, q)
		if v := digitValue(r); v >= 0 {
			fn(q, q+w, uint8(v), class != sepNone, class) // #nosec G115 -- v is a digit value 0..9
			q += w
			last = q
			ign, class = 0, sepNone
			continue
		}
		if isIgnorable(r) {
			if ign++; ign > maxGapIgnorables {
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
	return last
}

// onlyEdge reports whether s holds nothing but edge characters.
func onlyEdge(s string) bool {
	for _, r := range s {
		if !isEdge(r) {
			return false
		}
	}
	return true
}

// leadingRun returns the run that opens s (after edge characters), keeping
// its first MaxDigits digits; ok is false when s does not open with digits.
func leadingRun(s string, seq uint64, run *edgeRun) bool {
	*run = edgeRun{}
	i := 0
	for i < len(s) {
		r, w := decodeRune(s, i)
		if !isEdge(r) {
			break
		}
		i += w
	}
	if i == len(s) {
		return false
	}
	if r, _ := decodeRune(s, i); digitValue(r) < 0 {
		return false
	}
	end := walkRun(s, i, func(start, end int, v uint8, gs bool, c sepClass) {
		if run.n < len(run.d) {
			run.d[run.n] = edgeDigit{seq: seq, start: start, end: end, val: v, groupStart: gs, class: c}
			run.n++
		}
		run.total++
	})
	run.whole = onlyEdge(s[end:])
	return true
}

// trailingRun returns the run that closes s (before edge characters),
// keeping its last chainDigits digits in order; ok is false when s does not
// close with digits.
func trailingRun(s string, seq uint64, run *edgeRun) bool {
	*run = edgeRun{}
	e := len(s)
	for e > 0 {
		r, w := utf8.DecodeLastRuneInString(s[:e])
		if !isEdge(r) {
			break
		}
		e -= w
	}
	if e == 0 {
		return false
	}
	if r, _ := utf8.DecodeLastRuneInString(s[:e]); digitValue(r) < 0 {
		return false
	}
	start := runStartBefore(s, e)
	var ring [chainDigits]edgeDigit
	walkRun(s, start, func(st, en int, v uint8, gs bool, c sepClass) {
		ring[run.total%chainDigits] = edgeDigit{seq: seq, start: st, end: en, val: v, groupStart: gs, class: c}
		run.total++
	})
	run.n = min(run.total, chainDigits)
	for k := 0; k < run.n; k++ {
		run.d[k] = ring[(run.total-run.n+k)%chainDigits]
	}
	run.whole = onlyEdge(s[:start])
	return true
}

// runStartBefore returns the offset of the first digit of the run whose
// last digit ends at e, applying the gap rules of walkRun backwards.
func runStartBefore(s string, e int) int {
	_, w := utf8.DecodeLastRuneInString(s[:e])
	first := e - w
	q := first
	ign, sep := 0, false
	for q > 0 {
		r, w := utf8.DecodeLastRuneInString(s[:q])
		if digitValue(r) >= 0 {
			q -= w
			first = q
			ign, sep = 0, false
			continue
		}
		if isIgnorable(r) {
			if ign++; ign > maxGapIgnorables {
				break
			}
			q -= w
			continue
		}
		if !sep && separatorClass(r) != sepNone {
			sep = true
			q -= w
			continue
		}
		break
	}
	return first
}

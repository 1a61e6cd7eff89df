package pan

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SpanKind tells what a masked context Span held.
type SpanKind uint8

// The kinds of card data masked next to a card number.
const (
	SpanExpiry SpanKind = iota + 1 // an expiry date such as 12/26 or 12-2026
	SpanCode                       // a 3–4 digit card security code (CVV2, CVC2, CID)
)

// String returns the kind's name.
func (k SpanKind) String() string {
	switch k {
	case SpanExpiry:
		return "expiry"
	case SpanCode:
		return "code"
	}
	return "unknown"
}

// Span is a stretch of text masked because of a nearby card number. Start
// and End are byte offsets of its first and past its last digit.
type Span struct {
	Start int
	End   int
	Kind  SpanKind
}

// keyword is the meaning of a word read by the context lexer.
type keyword uint8

const (
	kwNone   keyword = iota
	kwCode           // introduces a security code: CVV, CVC, CID, "security code"…
	kwExpiry         // introduces an expiry date: exp, expiry, "valid thru"…
	kwFiller         // may stand between a keyword and its value: "is", "no", "date"…
	kwQual           // "security", "card", "verification": a code keyword when "code" follows
)

// classifyWord returns the meaning of an ASCII word, case-insensitively.
func classifyWord(w string) keyword {
	if len(w) > 12 {
		return kwNone
	}
	var buf [12]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(w)]) {
	case "cvv", "cvv2", "cvc", "cvc2", "cid", "csc", "cvn", "cvn2", "cav2", "cvd", "ccv":
		return kwCode
	case "exp", "expiry", "expires", "expiration", "expiring", "expire", "valid", "good":
		return kwExpiry
	case "security", "card", "verification", "sec", "secret":
		return kwQual
	case "is", "no", "nr", "number", "num", "date", "dt", "thru", "through", "until", "till",
		"the", "of", "on", "at", "code", "digits", "value", "mm", "yy", "yyyy", "mmyy":
		return kwFiller
	}
	return kwNone
}

// appendContext appends the expiry dates and security codes found in
// s[from:] to dst. A value must start within maxRunes runes of from. With
// bare set (the text right after a card number), up to two number tokens
// that come before any ordinary word are taken as expiry or code even
// without a keyword ("4111 1111 1111 1111 12/26 123"); otherwise a code
// needs a keyword and an expiry needs its MM/YY shape.
func appendContext(dst []Span, s string, from, maxRunes int, bare bool) []Span {
	i := from
	runes := 0
	kw := kwNone
	prevQual := false
	words := false
	tokens := 0
	valueEnd := from // end of the card number or of the last value taken
	for i < len(s) && runes < maxRunes {
		r, w := decodeRune(s, i)
		if digitValue(r) >= 0 {
			if end, ok := parseExpiry(s, i, kw == kwExpiry); ok && kw != kwCode && !joinedBefore(s, from, i) {
				dst = append(dst, Span{Start: i, End: end, Kind: SpanExpiry})
				runes += end - i
				i, valueEnd = end, end
				kw, prevQual = kwNone, false
				tokens++
				continue
			}
			_, end, nd := readNumber(s, i, math.MaxInt)
			if nd >= 3 && nd <= 4 && isolated(s, end) &&
				(kw == kwCode || (bare && !words && tokens < 2 && standalone(s, from, i, valueEnd))) {
				dst = append(dst, Span{Start: i, End: end, Kind: SpanCode})
				valueEnd = end
			}
			runes += end - i
			i = end
			kw, prevQual = kwNone, false
			tokens++
			continue
		}
		if r < 0x80 && isASCIILetter(byte(r)) {
			j := i
			for j < len(s) && (isASCIILetter(s[j]) || (j > i && s[j] == '2' && (j+1 == len(s) || !isASCIIDigit(s[j+1])))) {
				j++
			}
			switch c := classifyWord(s[i:j]); {
			case c == kwCode:
				kw = kwCode
			case c == kwExpiry:
				kw = kwExpiry
			case c == kwQual:
				prevQual = true
				runes += j - i
				i = j
				continue
			case c == kwFiller:
				if prevQual && strings.EqualFold(s[i:j], "code") {
					kw = kwCode
				} else if prevQual && strings.EqualFold(s[i:j], "number") {
					// "card number": an ordinary label, not a code keyword
					words = true
				}
			default:
				kw = kwNone
				words = true
			}
			prevQual = false
			runes += j - i
			i = j
			continue
		}
		if unicode.IsLetter(r) {
			kw, prevQual = kwNone, false
			words = true
		}
		i += w
		runes++
	}
	return dst
}

// isASCIILetter reports whether c is an ASCII letter.
func isASCIILetter(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// isASCIIDigit reports whether c is an ASCII digit.
func isASCIIDigit(c byte) bool {
	return '0' <= c && c <= '9'
}

// readNumber reads up to maxDigits digits at s[i:] (invisible characters
// between them are skipped) and returns their value, the end and the count.
// With maxDigits math.MaxInt it reads the whole digit token; the value then
// means nothing beyond 18 digits.
func readNumber(s string, i, maxDigits int) (val, end, n int) {
	end = i
	ign := 0
	for j := i; j < len(s) && n < maxDigits; {
		r, w := decodeRune(s, j)
		if v := digitValue(r); v >= 0 {
			val = val*10 + v
			n++
			j += w
			end = j
			ign = 0
			continue
		}
		if isIgnorable(r) && ign < maxGapIgnorables {
			ign++
			j += w
			continue
		}
		break
	}
	return val, end, n
}

// isolated reports whether the number token ending at end stands alone on
// its right: it is not followed by another digit, nor by a separator and a
// digit (which would make it part of a phone number, a date or a
// reference), except by a space and an expiry date ("123 12/26").
func isolated(s string, end int) bool {
	j := skipIgnorables(s, end)
	if j == len(s) {
		return true
	}
	r, w := decodeRune(s, j)
	if digitValue(r) >= 0 {
		return false
	}
	c := separatorClass(r)
	if c == sepNone {
		return true
	}
	k := skipIgnorables(s, j+w)
	if !digitFollows(s, k) {
		return true
	}
	if c != sepSpace {
		return false
	}
	_, ok := parseExpiry(s, k, false)
	return ok
}

// standalone reports whether the number token starting at i stands alone
// on its left: the digit before it, if joined to it by a separator, ends
// the card number or the value taken just before (valueEnd). It keeps
// "4111 1111" from being read as a code while "…1111 123" and "12/26 123"
// are. Only text from from on is considered.
func standalone(s string, from, i, valueEnd int) bool {
	j := i
	for k := 0; k < maxGapIgnorables && j > from; k++ {
		r, w := utf8.DecodeLastRuneInString(s[from:j])
		if !isIgnorable(r) {
			break
		}
		j -= w
	}
	if j > from {
		r, w := utf8.DecodeLastRuneInString(s[from:j])
		if separatorClass(r) == sepNone {
			return true
		}
		j -= w
	}
	for k := 0; k < maxGapIgnorables && j > from; k++ {
		r, w := utf8.DecodeLastRuneInString(s[from:j])
		if !isIgnorable(r) {
			break
		}
		j -= w
	}
	if j <= from {
		return j == valueEnd
	}
	r, _ := utf8.DecodeLastRuneInString(s[from:j])
	return digitValue(r) < 0 || j == valueEnd
}

// skipIgnorables skips up to maxGapIgnorables invisible characters.
func skipIgnorables(s string, j int) int {
	for k := 0; k < maxGapIgnorables && j < len(s); k++ {
		r, w := decodeRune(s, j)
		if !isIgnorable(r) {
			break
		}
		j += w
	}
	return j
}

// parseExpiry recognises an expiry date at s[i:]: a month 1–12 of one or two
// digits, a slash, dash or dot (optionally with one space either side), and
// a year of two digits or four digits from 2000 to 2099, not followed by
// another digit. After an expiry keyword the separator may also be a single
// space, or absent (MMYY, MMYYYY).
func parseExpiry(s string, i int, keyword bool) (int, bool) {
	if keyword {
		if v, end, n := readNumber(s, i, 6); (n == 4 || n == 6) && !digitFollows(s, end) {
			month, year, yd := v/100, v%100, 2
			if n == 6 {
				month, year, yd = v/10000, v%10000, 4
			}
			if validExpiry(month, year, yd) {
				return end, true
			}
		}
	}
	month, j, n := readNumber(s, i, 2)
	if n == 0 || month < 1 || month > 12 || digitFollows(s, j) {
		return 0, false
	}
	afterMonth := j
	j = skipSpace(s, j)
	r, w := rune(0), 0
	if j < len(s) {
		r, w = decodeRune(s, j)
	}
	switch r {
	case '/', '-', '.', '\u2215', '\uFF0F', '\u2010', '\u2013':
		j = skipSpace(s, j+w)
	default:
		if !keyword || j == afterMonth {
			return 0, false
		}
	}
	year, end, yd := readNumber(s, j, 4)
	if (yd != 2 && yd != 4) || digitFollows(s, end) || joinedAfter(s, end) || !validExpiry(month, year, yd) {
		return 0, false
	}
	return end, true
}

// joinedAfter reports whether a dash, dot or slash and a digit follow
// s[:end], as in the date "03/31/2025" after "03/31".
func joinedAfter(s string, end int) bool {
	j := skipIgnorables(s, end)
	if j == len(s) {
		return false
	}
	r, w := decodeRune(s, j)
	if c := separatorClass(r); c == sepNone || c == sepSpace {
		return false
	}
	return digitFollows(s, j+w)
}

// joinedBefore reports whether a digit and a dash, dot or slash precede
// s[i:] (not looking before lo), as in the date "2025-03-31" before "03-31".
func joinedBefore(s string, lo, i int) bool {
	j := i
	for k := 0; k < maxGapIgnorables && j > lo; k++ {
		r, w := utf8.DecodeLastRuneInString(s[lo:j])
		if !isIgnorable(r) {
			break
		}
		j -= w
	}
	if j <= lo {
		return false
	}
	r, w := utf8.DecodeLastRuneInString(s[lo:j])
	if c := separatorClass(r); c == sepNone || c == sepSpace {
		return digitValue(r) >= 0
	}
	j -= w
	for k := 0; k < maxGapIgnorables && j > lo; k++ {
		r, w := utf8.DecodeLastRuneInString(s[lo:j])
		if !isIgnorable(r) {
			break
		}
		j -= w
	}
	if j <= lo {
		return false
	}
	r, _ = utf8.DecodeLastRuneInString(s[lo:j])
	return digitValue(r) >= 0
}

// validExpiry checks the month and, for four-digit years, the century.
func validExpiry(month, year, yearDigits int) bool {
	if month < 1 || month > 12 {
		return false
	}
	if yearDigits == 4 {
		return year >= 2000 && year <= 2099
	}
	return yearDigits == 2
}

// skipSpace skips one optional ASCII space.
func skipSpace(s string, j int) int {
	if j < len(s) && s[j] == ' ' {
		return j + 1
	}
	return j
}

// digitFollows reports whether a digit follows s[:j], invisible characters
// aside.
func digitFollows(s string, j int) bool {
	j = skipIgnorables(s, j)
	if j == len(s) {
		return false
	}
	r, _ := decodeRune(s, j)
	return digitValue(r) >= 0
}

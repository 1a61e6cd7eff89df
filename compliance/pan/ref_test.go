package pan

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds a reference detector written independently of the
// scanner, as a brute force over the definition in the package
// documentation, for the fuzz tests and the generated corpus to compare
// against. It favours obviousness over speed.

// refDigit is one decimal digit of the text.
type refDigit struct {
	start, end int
	val        int
}

// refWindow is one card number found by the reference detector.
type refWindow struct {
	first, last int // indices into the digit list
	digits      string
}

// refValue returns the value of a decimal digit of any script by walking
// back to the zero of its block of ten.
func refValue(r rune) int {
	start := r
	for unicode.IsDigit(start - 1) {
		start--
	}
	return int(r-start) % 10
}

// refKind classifies a rune: 'd' digit, 'i' invisible, a separator family
// letter ('s' space, 'h' hyphen/dash, 'p' point, 'l' slash), 'x' other.
func refKind(r rune) byte {
	if unicode.IsDigit(r) {
		return 'd'
	}
	if strings.ContainsRune("\u200B\u200C\u200D\u2060\u2061\u2062\u2063\u2064\uFEFF\u00AD\uFE0E\uFE0F\u20E3", r) {
		return 'i'
	}
	switch {
	case strings.ContainsRune(" \u00A0\u202F\u2009\u2007\u3000", r):
		return 's'
	case strings.ContainsRune("-\u2010\u2011\u2012\u2013\u2212\uFF0D", r):
		return 'h'
	case strings.ContainsRune(".\uFF0E", r):
		return 'p'
	case strings.ContainsRune("/\uFF0F", r):
		return 'l'
	}
	return 'x'
}

// refBrand reports whether digits (ASCII) form a card number, from the
// table in COMPLIANCE.md restated here by hand.
func refBrand(digits string) (string, bool) {
	n := len(digits)
	p := func(k int) int { v, _ := strconv.Atoi(digits[:k]); return v }
	in := func(v int, ls ...int) bool {
		for _, l := range ls {
			if v == l {
				return true
			}
		}
		return false
	}
	brand, luhn := "", true
	switch {
	case digits[0] == '4' && in(n, 13, 16, 19):
		brand = "visa"
	case (p(2) >= 51 && p(2) <= 55 || p(4) >= 2221 && p(4) <= 2720) && n == 16:
		brand = "mastercard"
	case (p(2) == 34 || p(2) == 37) && n == 15:
		brand = "amex"
	case (p(4) == 6011 || p(3) >= 644 && p(3) <= 649 || p(2) == 65) && in(n, 16, 19):
		brand = "discover"
	case p(4) >= 3528 && p(4) <= 3589 && n >= 16 && n <= 19:
		brand = "jcb"
	case (p(3) >= 300 && p(3) <= 305 || p(2) == 36 || p(2) == 38 || p(2) == 39) && in(n, 14, 16, 19):
		brand = "diners"
	case p(2) == 62 && n >= 16 && n <= 19:
		brand, luhn = "unionpay", false
	default:
		return "", false
	}
	if luhn && !refLuhn(digits) {
		return "", false
	}
	return brand, true
}

// refLuhn is the Luhn check counted from the left: a digit is doubled when
// its distance from the right end is odd.
func refLuhn(digits string) bool {
	sum := 0
	for i := range len(digits) {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 1 {
			d = d * 2 % 9
			if digits[i] == '9' {
				d = 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// refMarker stands for a message boundary in refFindJoined's input.
const refMarker = '\uE000'

// refFind returns every card number of s, nested and overlapping ones
// included, and the list of digits of s.
func refFind(s string) ([]refWindow, []refDigit) {
	return refFindOpts(s, false)
}

// refFindJoined is refFind over messages joined by refMarker: a gap with
// one marker links two digits when everything else in it is an edge
// character (space, separator, invisible, ",;:…"), and separates groups of
// any family.
func refFindJoined(s string) ([]refWindow, []refDigit) {
	return refFindOpts(s, true)
}

func refFindOpts(s string, joined bool) ([]refWindow, []refDigit) {
	var ds []refDigit
	var kinds []byte // one per rune
	var offs []int   // byte offset per rune
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		k := refKind(r)
		switch {
		case r == utf8.RuneError && w == 1:
			k = 'x'
		case joined && r == refMarker:
			k = 'w'
		case joined && k == 'x' && (unicode.IsSpace(r) || strings.ContainsRune(",;:\u2026", r)):
			k = 'e'
		}
		kinds = append(kinds, k)
		offs = append(offs, i)
		if k == 'd' {
			ds = append(ds, refDigit{start: i, end: i + w, val: refValue(r)})
		}
		i += w
	}
	// gap[k] describes the text between digit k and digit k+1:
	// linked, and the separator family ('0' when none).
	type gap struct {
		linked bool
		sep    byte
	}
	runeIndex := make(map[int]int, len(offs))
	for i, o := range offs {
		runeIndex[o] = i
	}
	gaps := make([]gap, len(ds))
	for k := 0; k+1 < len(ds); k++ {
		a, b := runeIndex[ds[k].start]+1, runeIndex[ds[k+1].start]
		between := string(kinds[a:b])
		if markers := strings.Count(between, "w"); markers > 0 {
			if markers == 1 && strings.Trim(between, "wishple") == "" {
				gaps[k] = gap{linked: true, sep: '*'}
			}
			continue
		}
		between = strings.ReplaceAll(between, "e", "x")
		inv := strings.Count(between, "i")
		rest := strings.ReplaceAll(between, "i", "")
		switch {
		case inv > 16:
		case rest == "":
			gaps[k] = gap{linked: true, sep: '0'}
		case len(rest) == 1 && rest != "x":
			gaps[k] = gap{linked: true, sep: rest[0]}
		}
	}
	var wins []refWindow
	for i := range ds {
		runStart := i == 0 || !gaps[i-1].linked
		if !runStart && gaps[i-1].sep == '0' {
			continue // not a group start
		}
		plus := false
		if runStart {
			ri := runeIndex[ds[i].start]
			if ri > 0 {
				r, _ := utf8.DecodeRuneInString(s[offs[ri-1]:])
				plus = r == '+' || r == '＋'
			}
		}
		var digits strings.Builder
		family := byte(0)
		for j := i; j < len(ds) && j-i < 19; j++ {
			digits.WriteByte(byte('0' + ds[j].val))
			if j > i {
				if !gaps[j-1].linked {
					break
				}
				if sep := gaps[j-1].sep; sep != '0' && sep != '*' {
					if family == 0 {
						family = sep
					} else if family != sep {
						break
					}
				}
			}
			groupEnd := j+1 == len(ds) || !gaps[j].linked || gaps[j].sep != '0'
			n := j - i + 1
			if !groupEnd || n < 13 || plus && n <= 15 {
				continue
			}
			if _, ok := refBrand(digits.String()); ok {
				wins = append(wins, refWindow{first: i, last: j, digits: digits.String()})
			}
		}
	}
	return wins, ds
}

// refKeepFront is how many leading digits a mode leaves readable.
func refKeepFront(mode Mode, n int) int {
	if mode == ModeLast4 {
		return 0
	}
	switch n {
	case 13:
		return 4
	case 14:
		return 5
	}
	return 6
}

// refMaskedFlags walks in and out side by side and returns, for each digit
// of in, whether out masks it. ok is false when out changes anything other
// than digits, or replaces a digit by something other than mask.
func refMaskedFlags(in, out, mask string) (flags []bool, ok bool) {
	q := 0
	for p := 0; p < len(in); {
		r, w := utf8.DecodeRuneInString(in[p:])
		isDigit := unicode.IsDigit(r)
		switch {
		case isDigit && strings.HasPrefix(out[q:], mask):
			flags = append(flags, true)
			q += len(mask)
		case strings.HasPrefix(out[q:], in[p:p+w]):
			if isDigit {
				flags = append(flags, false)
			}
			q += w
		default:
			return nil, false
		}
		p += w
	}
	return flags, q == len(out)
}

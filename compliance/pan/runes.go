package pan

import (
	"unicode"
	"unicode/utf8"
)

// maxGapIgnorables bounds the invisible characters tolerated between two
// digits of one number. It keeps every decision local (which lets
// RedactStream process giant lines in bounded chunks) while being far above
// anything a keyboard, a copy-and-paste or an emoji keycap produces.
const maxGapIgnorables = 16

// sepClass is the family of a visible separator between digit groups. Within
// one card number every separator must belong to the same family, which is
// how "4111 1111 1111 1111" differs from "30.01.2024 10.15.30".
type sepClass uint8

const (
	sepNone sepClass = iota
	sepSpace
	sepDash
	sepDot
	sepSlash
)

// separatorClass returns the family of r when r may separate two digit
// groups of a card number, and sepNone otherwise.
func separatorClass(r rune) sepClass {
	switch r {
	case ' ', '\u00A0', '\u202F', '\u2009', '\u2007', '\u3000':
		// space, no-break space, narrow no-break space, thin space,
		// figure space, ideographic space
		return sepSpace
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2212', '\uFF0D':
		// hyphen-minus, hyphen, non-breaking hyphen, figure dash, en dash,
		// minus sign, full-width hyphen-minus
		return sepDash
	case '.', '\uFF0E':
		return sepDot
	case '/', '\uFF0F':
		return sepSlash
	}
	return sepNone
}

// isIgnorable reports whether r is an invisible character that is skipped
// between digits as if it were not there.
func isIgnorable(r rune) bool {
	switch r {
	case '\u200B', // zero-width space
		'\u200C',                               // zero-width non-joiner
		'\u200D',                               // zero-width joiner
		'\u2060',                               // word joiner
		'\u2061', '\u2062', '\u2063', '\u2064', // invisible operators
		'\uFEFF',           // zero-width no-break space (BOM)
		'\u00AD',           // soft hyphen
		'\uFE0E', '\uFE0F', // variation selectors (emoji presentation)
		'\u20E3': // combining enclosing keycap ("4️⃣")
		return true
	}
	return false
}

// digitValue returns the decimal value of r when r is a decimal digit of any
// script (Unicode category Nd, as unicode.IsDigit) and -1 otherwise.
func digitValue(r rune) int {
	if r < utf8.RuneSelf {
		if r >= '0' && r <= '9' {
			return int(r - '0')
		}
		return -1
	}
	return ndValue(r)
}

// ndValue returns the value of a non-ASCII decimal digit, or -1. Unicode
// guarantees that decimal digits are encoded in contiguous runs of ten
// ascending from zero, so the value is the offset from the start of the
// range in unicode.Nd modulo ten (TestNdTableShape checks the assumption).
func ndValue(r rune) int {
	// Quick rejects for the large digit-free blocks: CJK, Hangul, most
	// symbols and emoji (the common non-ASCII text in chat).
	if r < 0x0660 || (r > 0x1C59 && r < 0xA620) || (r > 0xABF9 && r < 0xFF10) ||
		(r > 0xFF19 && r < 0x104A0) || r > 0x1FBF9 {
		return -1
	}
	if r <= 0xFFFF {
		t := unicode.Nd.R16
		lo, hi := 0, len(t)
		for lo < hi {
			m := lo + (hi-lo)/2
			switch {
			case uint16(r) < t[m].Lo:
				hi = m
			case uint16(r) > t[m].Hi:
				lo = m + 1
			default:
				return int(uint16(r)-t[m].Lo) % 10
			}
		}
		return -1
	}
	t := unicode.Nd.R32
	lo, hi := 0, len(t)
	for lo < hi {
		m := lo + (hi-lo)/2
		switch {
		case uint32(r) < t[m].Lo:
			hi = m
		case uint32(r) > t[m].Hi:
			lo = m + 1
		default:
			return int(uint32(r)-t[m].Lo) % 10
		}
	}
	return -1
}

// decodeRune decodes the rune at s[i:], with a fast path for ASCII.
func decodeRune(s string, i int) (rune, int) {
	if b := s[i]; b < utf8.RuneSelf {
		return rune(b), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// isPlus reports whether r is a plus sign, the mark of an international
// phone number.
func isPlus(r rune) bool {
	return r == '+' || r == '\uFF0B'
}

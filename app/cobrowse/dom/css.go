package dom

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of CSS: an inline style attribute and a style element.
const (
	maxStyleAttr  = 8 << 10
	maxStyleSheet = 256 << 10
)

// cssFatal are constructs that drop the whole style: script in CSS, bindings, behaviours.
var cssFatal = []string{"expression(", "javascript:", "vbscript:", "-moz-binding", "behavior", "behaviour"}

// cssBlocked are functions that load URLs without url(): they are renamed so the declaration is
// invalid and ignored.
var cssBlocked = []string{"image-set(", "src(", "element("}

// css returns the safe form of a style attribute or sheet, "" when nothing of it can be kept.
// Escapes are decoded first (an escaped letter becomes the letter, so "e\78pression(" is caught;
// an escaped delimiter stays escaped, so it can never become syntax), then forbidden constructs
// are refused, @import is neutralised and every url() is checked against the site's origins.
func (s *Sanitizer) css(in string, max int) string {
	if len(in) > max {
		return ""
	}
	in = s.mask(in)
	dec := unescapeCSS(in)
	lower := strings.ToLower(dec)
	for _, f := range cssFatal {
		if strings.Contains(lower, f) {
			return ""
		}
	}
	var b strings.Builder
	b.Grow(len(dec))
	for i := 0; i < len(dec); {
		rest := lower[i:]
		switch {
		case strings.HasPrefix(rest, "@import"):
			b.WriteString("@parley-blocked-import")
			i += len("@import")
			continue
		case strings.HasPrefix(rest, "url("):
			n, out := s.cssURL(dec[i+4:])
			b.WriteString(out)
			i += 4 + n
			continue
		}
		blocked := false
		for _, f := range cssBlocked {
			if strings.HasPrefix(rest, f) {
				b.WriteString("parley-blocked(")
				i += len(f)
				blocked = true
				break
			}
		}
		if blocked {
			continue
		}
		if dec[i] == '<' {
			b.WriteString(`\3c `)
		} else {
			b.WriteByte(dec[i])
		}
		i++
	}
	return b.String()
}

// cssURL reads the argument of a url( at the start of rest and returns how many bytes it used
// and its replacement: url("…") of an allowed resource, or none.
func (s *Sanitizer) cssURL(rest string) (int, string) {
	i := 0
	for i < len(rest) && isSpace(rest[i]) {
		i++
	}
	var val string
	if i < len(rest) && (rest[i] == '"' || rest[i] == '\'') {
		q := rest[i]
		end := strings.IndexByte(rest[i+1:], q)
		if end < 0 {
			return len(rest), "none"
		}
		val = rest[i+1 : i+1+end]
		i += end + 2
		for i < len(rest) && isSpace(rest[i]) {
			i++
		}
		if i >= len(rest) || rest[i] != ')' {
			// Something other than the closing parenthesis: refuse up to it.
			end := strings.IndexByte(rest[i:], ')')
			if end < 0 {
				return len(rest), "none"
			}
			return i + end + 1, "none"
		}
		i++
	} else {
		end := strings.IndexByte(rest[i:], ')')
		if end < 0 {
			return len(rest), "none"
		}
		val = strings.TrimRight(rest[i:i+end], " \t\n\r\f")
		i += end + 1
	}
	if strings.ContainsAny(val, "\\\"'()\n\r\f") {
		return i, "none"
	}
	u, ok := s.resource(val)
	if !ok {
		return i, "none"
	}
	return i, `url("` + u + `")`
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// unescapeCSS decodes CSS escapes: a letter, digit, '-', '_' or non-ASCII character comes out as
// itself; anything else (a quote, a parenthesis, a colon, a backslash, a control) comes out as a
// hexadecimal escape, which CSS never reads as syntax. NUL, surrogates and code points beyond
// U+10FFFF become U+FFFD.
func unescapeCSS(in string) string {
	if !strings.Contains(in, `\`) {
		return in
	}
	var b strings.Builder
	b.Grow(len(in))
	for i := 0; i < len(in); {
		c := in[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		i++
		if i >= len(in) {
			b.WriteString(`\5c `)
			break
		}
		var r rune
		if isHex(in[i]) {
			j := i
			for j < len(in) && j-i < 6 && isHex(in[j]) {
				j++
			}
			v, _ := strconv.ParseUint(in[i:j], 16, 32)
			r = rune(v)
			i = j
			if i < len(in) && isSpace(in[i]) {
				if in[i] == '\r' && i+1 < len(in) && in[i+1] == '\n' {
					i++
				}
				i++
			}
		} else if in[i] == '\n' || in[i] == '\r' || in[i] == '\f' {
			i++ // a line continuation
			continue
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(in[i:])
			i += size
		}
		if r == 0 || (r >= 0xD800 && r <= 0xDFFF) || r > utf8.MaxRune {
			r = utf8.RuneError
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r >= 0x80 {
			b.WriteRune(r)
		} else {
			b.WriteString(`\` + strconv.FormatInt(int64(r), 16) + ` `)
		}
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

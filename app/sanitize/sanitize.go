// Package sanitize turns untrusted chat input into plain text that is safe to store and deliver:
// valid UTF-8 in Unicode NFC, without control characters (newline and tab excepted), without
// bidirectional overrides and other invisible format characters that disguise text, with line
// endings normalised and length limited. It never escapes markup: Parley stores plain text and
// every renderer escapes it for its own medium (html/template on the console, textContent in the
// widget).
//
// It sits under app, beside chat and visitor, rather than inside either: chat imports visitor, and
// visitor cleans the page addresses and titles it records with it, so a package of chat's would make
// visitor import upward. It holds no HTTP and no database, only the rules of Parley's chat and
// visitor text and their limits, which is also why it is not under compliance: compliance knows
// nothing of chat.
package sanitize

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Errors returned by Text.
var (
	// ErrEmpty means nothing but white space (or removed characters) was left.
	ErrEmpty = errors.New("sanitize: text is empty")
	// ErrTooLong means the text has more characters than allowed.
	ErrTooLong = errors.New("sanitize: text is too long")
)

// Limits bound a text field.
type Limits struct {
	// MaxRunes is the most characters (runes, after normalisation) the text may have.
	MaxRunes int
	// MultiLine keeps newlines (and tabs); otherwise every line break and tab becomes a space.
	MultiLine bool
	// MaxLines caps consecutive blank lines in multi-line text; zero means 2.
	MaxBlankLines int
}

// Common limits of Parley's chat fields.
var (
	// Message is a chat message: up to 4000 characters over several lines.
	Message = Limits{MaxRunes: 4000, MultiLine: true}
	// Name is a visitor's or file's name: one line of up to 100 characters.
	Name = Limits{MaxRunes: 100}
	// Answer is a pre-chat or survey answer: up to 1000 characters.
	Answer = Limits{MaxRunes: 1000, MultiLine: true}
	// Line is a page title, URL or other single-line value of up to 2000 characters.
	Line = Limits{MaxRunes: 2000}
)

// Text cleans s under limits l and returns the plain text to store, ErrEmpty when nothing is
// left, or ErrTooLong when the cleaned text is longer than l.MaxRunes.
func Text(s string, l Limits) (string, error) {
	out := Clean(s, l)
	if out == "" {
		return "", ErrEmpty
	}
	if l.MaxRunes > 0 && utf8.RuneCountInString(out) > l.MaxRunes {
		return "", ErrTooLong
	}
	return out, nil
}

// Optional is Text for fields that may be empty: an empty result is not an error.
func Optional(s string, l Limits) (string, error) {
	out, err := Text(s, l)
	if errors.Is(err, ErrEmpty) {
		return "", nil
	}
	return out, err
}

// Truncate is Clean followed by cutting the text to l.MaxRunes characters, for values that are
// recorded rather than refused when long (page titles, user agents).
func Truncate(s string, l Limits) string {
	out := Clean(s, l)
	if l.MaxRunes > 0 && utf8.RuneCountInString(out) > l.MaxRunes {
		n := 0
		for i := range out {
			if n == l.MaxRunes {
				return strings.TrimRightFunc(out[:i], unicode.IsSpace)
			}
			n++
		}
	}
	return out
}

// Clean removes what plain text must not hold, without length checks: invalid UTF-8 becomes
// U+FFFD, the text is normalised to NFC, CR LF and CR become LF, control characters other than LF
// and TAB, bidirectional controls, and invisible format characters other than the emoji joiners
// are removed, runs of blank lines are collapsed and the text is trimmed. In single-line mode LF
// and TAB become spaces. Clean is idempotent.
func Clean(s string, l Limits) string {
	maxBlank := l.MaxBlankLines
	if maxBlank <= 0 {
		maxBlank = 2
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	b.Grow(len(s))
	newlines := 0
	for i, r := range s {
		switch {
		case r == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				continue
			}
			r = '\n'
		case r == '\t' || r == '\n':
		case removed(r):
			continue
		}
		if !l.MultiLine && (r == '\n' || r == '\t') {
			r = ' '
		}
		if r == '\n' {
			newlines++
			if newlines > maxBlank+1 {
				continue
			}
		} else if r != ' ' && r != '\t' {
			newlines = 0
		}
		b.WriteRune(r)
	}
	out := norm.NFC.String(b.String())
	// Normalisation can compose characters but never creates removed ones; trimming last keeps
	// Clean idempotent.
	out = strings.TrimFunc(out, unicode.IsSpace)
	if l.MultiLine {
		out = trimLineEnds(out)
	}
	return out
}

// removed reports whether r never appears in Parley's plain text.
func removed(r rune) bool {
	switch {
	case r == utf8.RuneError:
		return false
	case unicode.IsControl(r): // C0, DEL, C1
		return true
	case unicode.Is(unicode.Bidi_Control, r): // LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI, LRM, RLM, ALM
		return true
	case r == '\u200D' || r == '\uFE0F' || r == '\uFE0E':
		// Zero-width joiner and variation selectors build emoji sequences.
		return false
	case unicode.Is(unicode.Cf, r): // zero-width spaces, soft hyphen, word joiner, tags, BOM, …
		return true
	case unicode.In(r, unicode.Co, unicode.Cs, unicode.Noncharacter_Code_Point):
		return true
	case r == '\u2028' || r == '\u2029': // line and paragraph separators render as breaks
		return true
	}
	return false
}

// trimLineEnds removes spaces and tabs before each newline.
func trimLineEnds(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, ln := range lines {
		lines[i] = strings.TrimRightFunc(ln, unicode.IsSpace)
	}
	return strings.Join(lines, "\n")
}

package pan

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mode is how much of a card number stays readable after masking; a
// tenant setting.
type Mode uint8

// The masking modes. Both stay within PCI DSS 3.4.1 (at most BIN and last
// four digits displayed).
const (
	// ModeBINLast4 keeps the first six digits (the BIN) and the last four.
	// For PANs of 13–15 digits it keeps fewer leading digits so that at
	// least MinHidden digits are always masked.
	ModeBINLast4 Mode = iota
	// ModeLast4 keeps only the last four digits.
	ModeLast4
)

// String returns the mode's configuration name.
func (m Mode) String() string {
	switch m {
	case ModeBINLast4:
		return "bin_last4"
	case ModeLast4:
		return "last4"
	}
	return "invalid"
}

// ParseMode returns the Mode named by s ("bin_last4" or "last4").
func ParseMode(s string) (Mode, error) {
	switch s {
	case "bin_last4":
		return ModeBINLast4, nil
	case "last4":
		return ModeLast4, nil
	}
	return 0, ErrInvalidMode
}

// Masking constants.
const (
	// DefaultMaskRune replaces each masked digit unless Options says otherwise.
	DefaultMaskRune = '•'
	// DefaultContextRunes is how far (in runes) before and after a card
	// number an expiry date or security code is looked for.
	DefaultContextRunes = 64
	// MaxContextRunes bounds Options.ContextRunes.
	MaxContextRunes = 256
	// BINDigits is the number of leading digits ModeBINLast4 keeps.
	BINDigits = 6
	// LastDigits is the number of trailing digits both modes keep.
	LastDigits = 4
	// MinHidden is the least number of digits of a card number that are
	// always masked, whatever its length.
	MinHidden = 5
)

// Options configures a Masker. The zero value is valid: BIN and last four
// visible, '•' as mask, expiry and code masked within 64 runes.
type Options struct {
	// Mode is the tenant's masking mode.
	Mode Mode
	// MaskRune replaces every masked digit; zero means DefaultMaskRune. It
	// must be printable and must not be a digit, a separator or an
	// invisible character.
	MaskRune rune
	// ContextRunes is how far around a card number expiry dates and
	// security codes are masked: zero means DefaultContextRunes, a negative
	// value turns context masking off.
	ContextRunes int
}

// Masker masks card numbers, and the expiry dates and security codes next
// to them, in free text. It holds no mutable state and is safe for
// concurrent use.
type Masker struct {
	mode     Mode
	mask     string
	ctxRunes int
}

// NewMasker returns a Masker configured by o, or an error wrapping
// ErrInvalidMode, ErrInvalidMaskRune or ErrInvalidOption.
func NewMasker(o Options) (*Masker, error) {
	if o.Mode != ModeBINLast4 && o.Mode != ModeLast4 {
		return nil, fmt.Errorf("mode %d: %w", o.Mode, ErrInvalidMode)
	}
	r := o.MaskRune
	if r == 0 {
		r = DefaultMaskRune
	}
	if !utf8.ValidRune(r) || r == utf8.RuneError || !unicode.IsGraphic(r) || unicode.IsSpace(r) ||
		unicode.IsDigit(r) || unicode.IsNumber(r) || separatorClass(r) != sepNone || isIgnorable(r) || isPlus(r) {
		return nil, fmt.Errorf("mask rune %U: %w", r, ErrInvalidMaskRune)
	}
	ctx := o.ContextRunes
	switch {
	case ctx == 0:
		ctx = DefaultContextRunes
	case ctx < 0:
		ctx = 0
	case ctx > MaxContextRunes:
		return nil, fmt.Errorf("context runes %d above %d: %w", ctx, MaxContextRunes, ErrInvalidOption)
	}
	return &Masker{mode: o.Mode, mask: string(r), ctxRunes: ctx}, nil
}

// Mode returns the masking mode.
func (m *Masker) Mode() Mode { return m.mode }

// Result describes what Mask found. Offsets refer to the input text.
type Result struct {
	// Matches are the card numbers, in order of position.
	Matches []Match
	// Context are the expiry dates and security codes masked because they
	// stood next to a card number, in order of position.
	Context []Span
}

// Found reports whether a card number was found.
func (r Result) Found() bool { return len(r.Matches) > 0 }

// Fragment is a stretch of a text whose digits are to be masked, except
// the first KeepFront and the last KeepBack digits of the stretch. The
// split detector reports earlier messages' parts of a card number as
// Fragments so the caller can mask stored copies with MaskFragments.
type Fragment struct {
	// MessageID identifies the message the fragment belongs to (empty for
	// the message being processed).
	MessageID string
	// Start and End are byte offsets into that message's text.
	Start int
	End   int
	// KeepFront and KeepBack count digits left readable at either end.
	KeepFront int
	KeepBack  int
}

// keepFront returns how many leading digits of an n-digit card number
// stay readable.
func (m *Masker) keepFront(n int) int {
	if m.mode == ModeLast4 {
		return 0
	}
	return max(0, min(BINDigits, n-LastDigits-MinHidden))
}

// Mask returns s with every card number masked (mode digits kept, every
// other digit replaced by the mask rune) together with the expiry dates and
// security codes next to them. Every other byte of s, separators and
// invalid UTF-8 included, is left as it was. When s holds no card number,
// Mask returns s itself and does not allocate.
func (m *Masker) Mask(s string) (string, Result) {
	res, ok := m.analyze(s)
	if !ok {
		return s, Result{}
	}
	return m.apply(s, m.appendFragments(nil, res)), res
}

// analyze finds the card numbers of s and the context around them.
func (m *Masker) analyze(s string) (Result, bool) {
	var sc scanner
	sc.reset(s)
	first, ok := sc.next()
	if !ok {
		return Result{}, false
	}
	matches := make([]Match, 1, 2)
	matches[0] = first
	for {
		mt, ok := sc.next()
		if !ok {
			break
		}
		matches = append(matches, mt)
	}
	return Result{Matches: matches, Context: m.contextSpans(s, matches)}, true
}

// appendFragments appends the fragments that mask what res found.
func (m *Masker) appendFragments(dst []Fragment, res Result) []Fragment {
	for _, mt := range res.Matches {
		dst = append(dst, m.matchFragment(mt))
	}
	for _, sp := range res.Context {
		dst = append(dst, Fragment{Start: sp.Start, End: sp.End})
	}
	return dst
}

// matchFragment returns the fragment that masks a card number by mode.
func (m *Masker) matchFragment(mt Match) Fragment {
	return Fragment{Start: mt.Start, End: mt.End, KeepFront: m.keepFront(mt.Digits), KeepBack: LastDigits}
}

// MaskString is Mask without the Result.
func (m *Masker) MaskString(s string) string {
	out, _ := m.Mask(s)
	return out
}

// contextSpans finds the expiry dates and security codes around the matches.
func (m *Masker) contextSpans(s string, matches []Match) []Span {
	if m.ctxRunes == 0 {
		return nil
	}
	var spans []Span
	for i, mt := range matches {
		lo := 0
		if i > 0 {
			lo = matches[i-1].End
		}
		hi := len(s)
		if i+1 < len(matches) {
			hi = matches[i+1].Start
		}
		if lo < mt.Start {
			from := backRunes(s, mt.Start, lo, m.ctxRunes)
			spans = appendContext(spans, s[:mt.Start], from, 2*m.ctxRunes+16, false)
		}
		if mt.End < hi {
			spans = appendContext(spans, s[:hi], mt.End, m.ctxRunes, true)
		}
	}
	if len(spans) > 1 {
		slices.SortFunc(spans, func(a, b Span) int { return a.Start - b.Start })
		spans = slices.Compact(spans)
	}
	return spans
}

// backRunes returns the offset n runes before end (not before lo), moved
// further back to the start of the word or number it falls into.
func backRunes(s string, end, lo, n int) int {
	i := end
	for ; n > 0 && i > lo; n-- {
		_, w := utf8.DecodeLastRuneInString(s[lo:i])
		i -= w
	}
	for extra := 0; extra < 16 && i > lo; extra++ {
		r, w := utf8.DecodeLastRuneInString(s[lo:i])
		if !unicode.IsLetter(r) && digitValue(r) < 0 && !isIgnorable(r) {
			break
		}
		i -= w
	}
	return i
}

// MaskFragments returns text with the digits of each fragment masked
// (MessageID is ignored). Within a fragment, a mask rune counts as a digit
// that is already masked, so fragments apply to texts that Mask or
// MaskFragments already processed. Out-of-range offsets are clamped; other
// bytes are left as they were.
func (m *Masker) MaskFragments(text string, frags []Fragment) string {
	return m.apply(text, frags)
}

// apply masks the digits of the fragments in s.
func (m *Masker) apply(s string, frags []Fragment) string {
	return m.build(s, m.hidden(s, frags))
}

// build returns s with the runes at the offsets hide replaced by the mask.
func (m *Masker) build(s string, hide []int) string {
	if len(hide) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(hide)*(len(m.mask)-1))
	last := 0
	for _, p := range hide {
		_, w := decodeRune(s, p)
		b.WriteString(s[last:p])
		b.WriteString(m.mask)
		last = p + w
	}
	b.WriteString(s[last:])
	return b.String()
}

// isPosition reports whether the rune at s[i:] is a digit or the mask rune,
// and its width.
func (m *Masker) isPosition(s string, i int) (bool, int) {
	r, w := decodeRune(s, i)
	if digitValue(r) >= 0 {
		return true, w
	}
	return w == len(m.mask) && s[i:i+w] == m.mask, w
}

// hidden returns the sorted offsets of the digits the fragments mask.
func (m *Masker) hidden(s string, frags []Fragment) []int {
	size := 0
	for _, f := range frags {
		size += max(0, min(f.End, len(s))-max(0, f.Start))
	}
	hide := make([]int, 0, min(size, 64))
	for _, f := range frags {
		start, end := max(0, min(f.Start, len(s))), max(0, min(f.End, len(s)))
		total := 0
		for i := start; i < end; {
			ok, w := m.isPosition(s, i)
			if ok {
				total++
			}
			i += w
		}
		idx := 0
		for i := start; i < end; {
			ok, w := m.isPosition(s, i)
			if ok {
				if idx >= f.KeepFront && idx < total-f.KeepBack {
					hide = append(hide, i)
				}
				idx++
			}
			i += w
		}
	}
	if !slices.IsSorted(hide) {
		slices.Sort(hide)
	}
	return slices.Compact(hide)
}

// shifted returns where byte p of s lands once the runes at the offsets
// hide (sorted) are replaced by the mask.
func (m *Masker) shifted(s string, hide []int, p int) int {
	q := p
	for _, h := range hide {
		if h >= p {
			break
		}
		_, w := decodeRune(s, h)
		q += len(m.mask) - w
	}
	return q
}

package audit

import "unicode"

// Masker masks card numbers (PANs) in free text before it enters the audit log. The log runs
// every detail value, the Reason and the user agent through it. compliance/pan provides the
// precise masker (IIN, length and Luhn aware); the app wires it in through Config.Masker.
type Masker interface {
	// Mask returns s with every card number masked. It must not fail and must be idempotent.
	Mask(s string) string
}

// MaskFunc adapts a masking function to Masker, e.g. audit.MaskFunc(panMasker.MaskString).
type MaskFunc func(s string) string

var _ Masker = MaskFunc(nil)

// Mask implements Masker.
func (f MaskFunc) Mask(s string) string { return f(s) }

// DigitRunMasker is the default Masker, used only when no PAN-aware masker is wired. It is
// deliberately over-eager: any run of 13 or more digits (of any script), optionally split by
// up to five spaces, hyphens, dots or invisible characters between digits, is masked to "*"
// except its last four digits — whether or not it is a valid card number. Long order numbers
// and phone numbers with many digits are masked too; that is the price of a masker that needs
// no card-brand knowledge.
type DigitRunMasker struct{}

var _ Masker = DigitRunMasker{}

// minMaskedRun is the shortest digit run DigitRunMasker masks: the shortest PAN length.
const minMaskedRun = 13

// maxSeparatorRun is how many separators may stand between two digits of one run.
const maxSeparatorRun = 5

// maskSeparator reports whether r may split the digits of a card number.
func maskSeparator(r rune) bool {
	switch r {
	case ' ', '-', '.', '\u00a0', '\u2007', '\u202f', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u2010', '\u2011', '\u2012', '\u2013':
		return true
	}
	return false
}

// Mask implements Masker.
func (DigitRunMasker) Mask(s string) string {
	if !hasLongDigitRun(s) {
		return s
	}
	rs := []rune(s)
	i := 0
	for i < len(rs) {
		if !unicode.IsDigit(rs[i]) {
			i++
			continue
		}
		// Collect one run: digits separated by at most maxSeparatorRun separators.
		start, end, digits := i, i, 0
		j := i
		for j < len(rs) {
			if unicode.IsDigit(rs[j]) {
				digits++
				j++
				end = j
				continue
			}
			k := j
			for k < len(rs) && k-j < maxSeparatorRun && maskSeparator(rs[k]) {
				k++
			}
			if k == j || k >= len(rs) || !unicode.IsDigit(rs[k]) {
				break
			}
			j = k
		}
		if digits >= minMaskedRun {
			keep := 4
			for p := end - 1; p >= start; p-- {
				if !unicode.IsDigit(rs[p]) {
					continue
				}
				if keep > 0 {
					keep--
					continue
				}
				rs[p] = '*'
			}
		}
		i = end
	}
	return string(rs)
}

// hasLongDigitRun is Mask's fast path: false when s cannot hold 13 digits at all.
func hasLongDigitRun(s string) bool {
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			n++
			if n >= minMaskedRun {
				return true
			}
		}
	}
	return false
}

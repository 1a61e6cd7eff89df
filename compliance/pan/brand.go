package pan

import "slices"

// Brand is a payment card brand identified from a PAN's issuer
// identification number (IIN) and length.
type Brand uint8

// The brands Parley recognises. BrandUnknown is the zero value.
const (
	BrandUnknown Brand = iota
	BrandVisa
	BrandMastercard
	BrandAmex
	BrandDiscover
	BrandJCB
	BrandDiners
	BrandUnionPay
)

// String returns the brand's stable lower-case name, as used in logs, audit
// details and reports.
func (b Brand) String() string {
	switch b {
	case BrandVisa:
		return "visa"
	case BrandMastercard:
		return "mastercard"
	case BrandAmex:
		return "amex"
	case BrandDiscover:
		return "discover"
	case BrandJCB:
		return "jcb"
	case BrandDiners:
		return "diners"
	case BrandUnionPay:
		return "unionpay"
	}
	return "unknown"
}

// Lengths is a set of PAN lengths: bit n is set when a PAN may have n digits.
type Lengths uint32

// lengths builds a Lengths set from its members.
func lengths(ns ...int) Lengths {
	var l Lengths
	for _, n := range ns {
		l |= 1 << n
	}
	return l
}

// Has reports whether n is a member of the set.
func (l Lengths) Has(n int) bool {
	return n >= 0 && n < 32 && l&(1<<n) != 0
}

// IINRange is one row of the card brand table: every PAN whose leading
// Digits digits, read as a number, lie in [Low, High] and whose length is in
// Lengths belongs to Brand. Luhn tells whether the brand guarantees a valid
// Luhn check digit; a candidate of a Luhn brand that fails the check is not
// a PAN.
type IINRange struct {
	Brand   Brand
	Low     int
	High    int
	Digits  int
	Lengths Lengths
	Luhn    bool
}

// iinTable is the single source of truth for brand detection, from
// /work/shared/COMPLIANCE.md ("Card numbers"). Rows do not overlap.
var iinTable = [...]IINRange{
	{BrandVisa, 4, 4, 1, lengths(13, 16, 19), true},
	{BrandMastercard, 51, 55, 2, lengths(16), true},
	{BrandMastercard, 2221, 2720, 4, lengths(16), true},
	{BrandAmex, 34, 34, 2, lengths(15), true},
	{BrandAmex, 37, 37, 2, lengths(15), true},
	{BrandDiscover, 6011, 6011, 4, lengths(16, 19), true},
	{BrandDiscover, 644, 649, 3, lengths(16, 19), true},
	{BrandDiscover, 65, 65, 2, lengths(16, 19), true},
	{BrandJCB, 3528, 3589, 4, lengths(16, 17, 18, 19), true},
	{BrandDiners, 300, 305, 3, lengths(14, 16, 19), true},
	{BrandDiners, 36, 36, 2, lengths(14, 16, 19), true},
	{BrandDiners, 38, 39, 2, lengths(14, 16, 19), true},
	{BrandUnionPay, 62, 62, 2, lengths(16, 17, 18, 19), false},
}

// IINTable returns a copy of the card brand table that drives detection:
// one row per brand and IIN range, with the permitted lengths and whether
// the Luhn check applies. Detection reads the same rows, so documentation,
// tests and code cannot drift apart.
func IINTable() []IINRange {
	return slices.Clone(iinTable[:])
}

// MinDigits and MaxDigits bound the length of a PAN.
const (
	MinDigits = 13
	MaxDigits = 19
)

// classify returns the brand of the digit values ds (most significant
// first) when they form a PAN: a row of the table matches the prefix and
// the length, and the Luhn check passes where the brand requires it.
func classify(ds []uint8) (Brand, bool) {
	n := len(ds)
	if n < MinDigits || n > MaxDigits {
		return BrandUnknown, false
	}
	p1 := int(ds[0])
	p2 := p1*10 + int(ds[1])
	p3 := p2*10 + int(ds[2])
	p4 := p3*10 + int(ds[3])
	for i := range iinTable {
		row := &iinTable[i]
		var p int
		switch row.Digits {
		case 1:
			p = p1
		case 2:
			p = p2
		case 3:
			p = p3
		default:
			p = p4
		}
		if p < row.Low || p > row.High || !row.Lengths.Has(n) {
			continue
		}
		if row.Luhn && !luhnValid(ds) {
			return BrandUnknown, false
		}
		return row.Brand, true
	}
	return BrandUnknown, false
}

// luhnValid applies the Luhn check to digit values, most significant first.
func luhnValid(ds []uint8) bool {
	sum := 0
	double := false
	for i := len(ds) - 1; i >= 0; i-- {
		d := int(ds[i])
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// LuhnValid reports whether s, a string of ASCII digits, passes the Luhn
// check. It returns false for an empty string or any non-digit byte.
func LuhnValid(s string) bool {
	if s == "" {
		return false
	}
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// Classify returns the brand of s, a string of ASCII digits without
// separators, and whether s is a PAN by the brand table and the Luhn check.
// It is meant for forms and tests; free text goes through Find or Mask.
func Classify(s string) (Brand, bool) {
	if len(s) < MinDigits || len(s) > MaxDigits {
		return BrandUnknown, false
	}
	var buf [MaxDigits]uint8
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return BrandUnknown, false
		}
		buf[i] = c - '0'
	}
	return classify(buf[:len(s)])
}

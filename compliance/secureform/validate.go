package secureform

import (
	"time"

	"github.com/parleyhq/parley/compliance/pan"
)

// MaxYearsAhead bounds how far in the future an expiry date may lie.
const MaxYearsAhead = 20

// brandOf identifies num (ASCII digits) by compliance/pan's IIN table and reports whether it is
// a PAN: a row matches its prefix and length, and it passes Luhn where the brand requires it.
func brandOf(num []byte) (pan.Brand, bool) {
	n := len(num)
	for _, row := range pan.IINTable() {
		if !row.Lengths.Has(n) || row.Digits > n {
			continue
		}
		prefix := 0
		for _, c := range num[:row.Digits] {
			prefix = prefix*10 + int(c-'0')
		}
		if prefix < row.Low || prefix > row.High {
			continue
		}
		return row.Brand, !row.Luhn || luhn(num)
	}
	return pan.BrandUnknown, false
}

// luhn reports whether num, ASCII digits, passes the Luhn check.
func luhn(num []byte) bool {
	sum, double := 0, false
	for i := len(num) - 1; i >= 0; i-- {
		d := int(num[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return len(num) > 0 && sum%10 == 0
}

// CVCLength returns the length of a brand's security code: 4 for American Express (CID), 3 for
// every other brand.
func CVCLength(b pan.Brand) int {
	if b == pan.BrandAmex {
		return 4
	}
	return 3
}

// ExpiryValid reports whether a card expiring at the end of month/year is still valid at now
// (UTC) and expires within MaxYearsAhead years.
func ExpiryValid(month, year int, now time.Time) bool {
	now = now.UTC()
	if month < 1 || month > 12 {
		return false
	}
	exp := year*12 + month - 1
	cur := now.Year()*12 + int(now.Month()) - 1
	return exp >= cur && exp <= cur+MaxYearsAhead*12
}

// validate checks decoded card data at time now.
func validate(d *data, now time.Time) error {
	num := d.number[:d.nlen]
	if len(num) < pan.MinDigits {
		return fieldErr(FieldNumber, "Enter the full card number.")
	}
	brand, ok := brandOf(num)
	if !ok {
		return fieldErr(FieldNumber, "This card number is not valid; check it and try again.")
	}
	d.brand = brand
	if !ExpiryValid(int(d.month), int(d.year), now) {
		return fieldErr(FieldExpiry, "This card has expired or the date is not valid.")
	}
	if int(d.clen) != CVCLength(brand) {
		if brand == pan.BrandAmex {
			return fieldErr(FieldCVC, "The security code of this card has 4 digits.")
		}
		return fieldErr(FieldCVC, "The security code of this card has 3 digits.")
	}
	return nil
}

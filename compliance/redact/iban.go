package redact

// ibanLengths is the IBAN length of each country of the ISO 13616 registry
// (SWIFT IBAN Registry), country code → total characters.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
	"DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
	"FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
	"GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
	"LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
	"MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
	"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
	"YE": 30,
}

// IBANLength returns the IBAN length of a country (upper-case ISO 3166
// code) and whether the country issues IBANs.
func IBANLength(country string) (int, bool) {
	n, ok := ibanLengths[country]
	return n, ok
}

// ValidIBAN reports whether s is an IBAN: a known country code, the
// country's length, check digits 02–98, letters and digits only, and the
// ISO 7064 mod 97-10 checksum. Letters may be lower case; single spaces
// between characters (the print format) are allowed.
func ValidIBAN(s string) bool {
	var buf [34]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if i == 0 || i == len(s)-1 || s[i-1] == ' ' {
				return false
			}
			continue
		}
		if n == len(buf) {
			return false
		}
		buf[n] = upper(c)
		n++
	}
	return checkIBAN(buf[:n])
}

// upper returns c in upper case when it is an ASCII letter.
func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// checkIBAN validates an upper-case IBAN without spaces.
func checkIBAN(b []byte) bool {
	if len(b) < 5 || !isUpper(b[0]) || !isUpper(b[1]) || !isDigit(b[2]) || !isDigit(b[3]) {
		return false
	}
	if want, ok := ibanLengths[string(b[:2])]; !ok || want != len(b) {
		return false
	}
	if check := int(b[2]-'0')*10 + int(b[3]-'0'); check < 2 || check > 98 {
		return false
	}
	// Move the first four characters to the end, letters as 10..35, and
	// reduce modulo 97 as we go.
	rem := 0
	for k := range b {
		c := b[(k+4)%len(b)]
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case isUpper(c):
			rem = (rem*100 + int(c-'A') + 10) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// isUpper reports whether c is an ASCII upper-case letter.
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool { return isDigit(c) || isUpper(upper(c)) }

// validateIBAN is the IBAN validator: from start, it reads the country's
// number of characters (single spaces allowed between them), requires a
// word boundary on both sides, checks the IBAN and returns its end.
func validateIBAN(text string, start, _ int) (int, bool) {
	if start > 0 && isAlnum(text[start-1]) {
		return 0, false
	}
	if start+2 > len(text) {
		return 0, false
	}
	cc := [2]byte{upper(text[start]), upper(text[start+1])}
	want, ok := ibanLengths[string(cc[:])]
	if !ok {
		return 0, false
	}
	var buf [34]byte
	n := 0
	i := start
	for i < len(text) && n < want {
		c := text[i]
		switch {
		case isAlnum(c):
			buf[n] = upper(c)
			n++
			i++
		case c == ' ' && n > 0 && i+1 < len(text) && isAlnum(text[i+1]):
			i++
		default:
			return 0, false
		}
	}
	if n < want || (i < len(text) && isAlnum(text[i])) {
		return 0, false
	}
	return i, checkIBAN(buf[:n])
}

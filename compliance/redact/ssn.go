package redact

// invalidSSNs are well-formed numbers that were never valid SSNs because
// they were published: the Woolworth wallet card and an advertisement.
var invalidSSNs = map[string]bool{
	"078051120": true,
	"219099999": true,
}

// ValidSSN reports whether s is a US Social Security number as written:
// AAA-GG-SSSS, AAA GG SSSS or AAAGGSSSS (one separator style throughout),
// whose area is not 000, 666 or 900–999, whose group is not 00, whose
// serial is not 0000, and which is not one of the published numbers never
// issued (078-05-1120, 219-09-9999).
func ValidSSN(s string) bool {
	var d [9]byte
	n := 0
	var sep byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			if n == len(d) {
				return false
			}
			d[n] = c
			n++
		case (c == '-' || c == ' ') && (n == 3 || n == 5):
			if i == 0 || !isDigit(s[i-1]) {
				return false
			}
			if sep == 0 && n == 3 {
				sep = c
			} else if c != sep || n != 5 {
				return false
			}
		default:
			return false
		}
	}
	if n != 9 || (sep != 0 && len(s) != 11) {
		return false
	}
	area := string(d[:3])
	switch {
	case area == "000", area == "666", d[0] == '9':
		return false
	case d[3] == '0' && d[4] == '0':
		return false
	case string(d[5:]) == "0000":
		return false
	}
	return !invalidSSNs[string(d[:])]
}

// validateSSN is the SSN validator: the match must be a valid SSN that is
// not part of a longer number (no letter or digit around it, nor a digit
// joined by a dash, dot or slash, as in a phone number or a date).
func validateSSN(text string, start, end int) (int, bool) {
	if start > 0 {
		c := text[start-1]
		if isAlnum(c) || (start > 1 && (c == '-' || c == '.' || c == '/') && isDigit(text[start-2])) {
			return 0, false
		}
	}
	if end < len(text) {
		c := text[end]
		if isAlnum(c) || (end+1 < len(text) && (c == '-' || c == '.' || c == '/') && isDigit(text[end+1])) {
			return 0, false
		}
	}
	return end, ValidSSN(text[start:end])
}

package redact

// validatorFunc checks a match text[start:end] found by a rule's pattern and
// returns where the validated match ends (it may be shorter) and whether it
// is valid. It may look at text around the match to check boundaries.
type validatorFunc func(text string, start, end int) (int, bool)

// Validator names for Rule.Validator.
const (
	// ValidatorUSSSN accepts valid US Social Security numbers (ValidSSN).
	ValidatorUSSSN = "us_ssn"
	// ValidatorIBAN accepts IBANs with a valid checksum (ValidIBAN).
	ValidatorIBAN = "iban"
)

// validator is a named check with a quick test that text may hold a
// valid match at all, which spares running the pattern on most messages.
type validator struct {
	check    validatorFunc
	mayMatch func(text string) bool
}

// validators maps Rule.Validator names to their checks.
var validators = map[string]validator{
	ValidatorUSSSN: {check: validateSSN, mayMatch: hasNineDigits},
	ValidatorIBAN:  {check: validateIBAN, mayMatch: hasIBANStart},
}

// hasNineDigits reports whether text holds at least nine ASCII digits.
func hasNineDigits(text string) bool {
	n := 0
	for i := 0; i < len(text); i++ {
		if isDigit(text[i]) {
			if n++; n == 9 {
				return true
			}
		}
	}
	return false
}

// hasIBANStart reports whether text holds two ASCII letters followed by two
// ASCII digits.
func hasIBANStart(text string) bool {
	for i := 0; i+3 < len(text); i++ {
		if isDigit(text[i+3]) && isDigit(text[i+2]) && isUpper(upper(text[i+1])) && isUpper(upper(text[i])) {
			return true
		}
	}
	return false
}

// Names of the built-in rules.
const (
	BuiltinUSSSN = "us_ssn"
	BuiltinIBAN  = "iban"
)

// BuiltinRules returns the rules Parley ships, all disabled: a tenant turns
// them on (and may change their replacement) in its redaction settings.
//
//   - us_ssn: nine digits as AAA-GG-SSSS, AAA GG SSSS or AAAGGSSSS, checked
//     by ValidSSN and not part of a longer number.
//   - iban: two letters, two check digits and the country's number of
//     letters or digits, optionally in groups separated by single spaces,
//     checked by ValidIBAN (country length and mod-97 checksum); the
//     validator cuts the candidate to the country's length.
func BuiltinRules() []Rule {
	return []Rule{
		{
			Name:        BuiltinUSSSN,
			Pattern:     `\b[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}\b`,
			Replacement: "[SSN]",
			Validator:   ValidatorUSSSN,
		},
		{
			Name:        BuiltinIBAN,
			Pattern:     `\b[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9])+`,
			Replacement: "[IBAN]",
			Validator:   ValidatorIBAN,
		},
	}
}

package visitor

import (
	"errors"
	"strings"

	"golang.org/x/text/language"

	"github.com/parleyhq/parley/compliance/pan"
)

// MaxLanguageLen bounds a language tag, in bytes, as it arrives and as it is stored (RFC 5646
// §4.4.1 asks for at least 35; real tags are far shorter).
const MaxLanguageLen = 35

// Language tag errors.
var (
	// ErrLanguage means a value is not a well-formed, known BCP 47 language tag of at most
	// MaxLanguageLen bytes.
	ErrLanguage = errors.New("visitor: not a language tag")
	// ErrLanguageCardNumber means a value holds a card number (a private-use subtag such as
	// x-41111111-11111111 is well-formed BCP 47). It is never stored.
	ErrLanguageCardNumber = errors.New("visitor: language tag holds a card number")
)

// ParseLanguage returns the canonical form of a BCP 47 language tag ("de-ch" → "de-CH",
// "en_US" → "en-US", "i-klingon" → "tlh"), parsed with golang.org/x/text/language. It refuses
// with ErrLanguage a value that is empty, longer than MaxLanguageLen, ill-formed or holds an
// unknown subtag, and with ErrLanguageCardNumber one that holds a card number, whether its digits
// stand in one subtag or are spread over several.
func ParseLanguage(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxLanguageLen {
		return "", ErrLanguage
	}
	if holdsCardNumber(s) {
		return "", ErrLanguageCardNumber
	}
	tag, err := language.Parse(s)
	if err != nil {
		return "", ErrLanguage
	}
	out := tag.String()
	if len(out) > MaxLanguageLen {
		return "", ErrLanguage
	}
	if holdsCardNumber(out) {
		return "", ErrLanguageCardNumber
	}
	return out, nil
}

// holdsCardNumber reports whether s, or the digits of s read as one run, hold a card number.
// Real language tags have at most a handful of digits (region 419, variant 1901), so reading
// the digits of all subtags together refuses nothing legitimate.
func holdsCardNumber(s string) bool {
	if pan.Contains(s) {
		return true
	}
	var digits []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits = append(digits, s[i])
		}
	}
	return len(digits) >= 13 && pan.Contains(string(digits))
}

// CleanLanguage keeps the first language tag of an Accept-Language-like value, canonical as
// ParseLanguage returns it. Language values a browser sends (navigator.language, the widget's
// lang parameter, Accept-Language) must never fail the chat, so anything ParseLanguage refuses —
// a card number included — is dropped: CleanLanguage returns "" and the caller falls back to the
// site's default language.
func CleanLanguage(s string) string {
	s, _, _ = strings.Cut(s, ",")
	s, _, _ = strings.Cut(s, ";")
	tag, err := ParseLanguage(s)
	if err != nil {
		return ""
	}
	return tag
}

// LanguageOr is CleanLanguage(s), or fallback when s holds no usable language tag.
func LanguageOr(s, fallback string) string {
	if tag := CleanLanguage(s); tag != "" {
		return tag
	}
	return fallback
}

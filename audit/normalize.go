package audit

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Size limits applied before an event is hashed. Longer text is cut at a character boundary;
// more or longer detail keys are refused.
const (
	MaxIDBytes          = 256
	MaxUserAgentBytes   = 512
	MaxReasonBytes      = 1024
	MaxDetailKeys       = 32
	MaxDetailKeyBytes   = 64
	MaxDetailValueBytes = 2048
	// maxMaskInput bounds the text handed to a Masker, so a huge value cannot stall the caller.
	maxMaskInput = 16 << 10
)

// sensitiveWords are detail-key words that name secrets; a key containing one of them is
// refused. Matching is on the key with separators removed, lower case.
var sensitiveWords = []string{
	"password", "passwd", "passphrase", "secret", "token", "privatekey", "apikey",
	"cardnumber", "creditcard", "cvv", "cvc", "authorization", "cookie", "recoverycode", "totpcode",
}

// sensitiveTokens are short words refused only as a whole key part ("pan", but not "company").
var sensitiveTokens = []string{"pan", "pin", "otp", "pwd", "cav2", "cid2"}

// sensitiveKey reports whether a detail key names a secret.
func sensitiveKey(k string) bool {
	joined := strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' {
			return -1
		}
		return r
	}, k)
	for _, w := range sensitiveWords {
		if strings.Contains(joined, w) {
			return true
		}
	}
	for _, part := range strings.FieldsFunc(k, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
		for _, t := range sensitiveTokens {
			if part == t {
				return true
			}
		}
	}
	return false
}

// sensitiveValue reports whether a value looks like key material, whatever its key.
func sensitiveValue(v string) bool {
	return strings.Contains(v, "-----BEGIN") || strings.Contains(v, "PRIVATE KEY")
}

// validDetailKey reports whether k is lower-case letters, digits, '_', '.' and '-', starting
// with a letter or digit.
func validDetailKey(k string) bool {
	if k == "" || len(k) > MaxDetailKeyBytes {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// cleanText makes s storable and hashable identically on every database: valid UTF-8, no NUL
// (PostgreSQL text cannot hold it), at most max bytes, cut at a character boundary.
func cleanText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return truncate(s, max)
}

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// maskText cleans, masks and truncates free text.
func maskText(m Masker, s string, max int) string {
	s = cleanText(s, maxMaskInput)
	return truncate(m.Mask(s), max)
}

// maskID cleans, masks and truncates an identifier. Identifiers are Parley's own ids or names
// that were checked where they entered (role names refuse card numbers), so masking changes
// nothing for them; it keeps a card number out of the log whatever path an identifier took.
//
// Ids Parley generates — canonical UUIDs and 32-hex-digit request ids — are kept as they are: their
// random digit groups can read as a card number by chance (a UUID's 8-4-4 or 4-12 digits, a run of
// 13–19 digits in hex), and an audit record must name the very id it concerns.
func maskID(m Masker, s string) string {
	s = cleanText(s, maxMaskInput)
	if generatedID(s) {
		return s
	}
	return truncate(m.Mask(s), MaxIDBytes)
}

// generatedID reports whether s has the form of an id Parley generates: a canonical UUID
// (lower-case hex, 8-4-4-4-12) or a request id (32 lower-case hex digits).
func generatedID(s string) bool {
	switch len(s) {
	case 36:
		for i := 0; i < len(s); i++ {
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if s[i] != '-' {
					return false
				}
			} else if !isLowerHex(s[i]) {
				return false
			}
		}
		return true
	case 32:
		for i := 0; i < len(s); i++ {
			if !isLowerHex(s[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// Normalize checks an event and returns the form that is hashed and stored: text made valid
// UTF-8 without NUL, free text (reason, user agent, detail values) and the identifiers a client
// can choose (actor id and role, target kind and id, request id) PAN-masked by m
// (DigitRunMasker when nil) and truncated, the IP in canonical form, an empty Origin.Node set
// to node. It refuses unknown actions, malformed fields, secret-looking details and detail keys
// that hold a card number. It does not set Time or Seq.
func Normalize(ev Event, m Masker, node string) (Event, error) {
	if m == nil {
		m = DigitRunMasker{}
	}
	out := Event{
		Tenant:    cleanText(ev.Tenant, MaxIDBytes),
		Actor:     Actor{ID: maskID(m, ev.Actor.ID), Role: maskID(m, ev.Actor.Role), Kind: ev.Actor.Kind},
		Origin:    Origin{UserAgent: maskText(m, ev.Origin.UserAgent, MaxUserAgentBytes), Node: cleanText(ev.Origin.Node, MaxIDBytes)},
		Action:    ev.Action,
		Target:    Target{Kind: maskID(m, ev.Target.Kind), ID: maskID(m, ev.Target.ID)},
		Outcome:   ev.Outcome,
		Reason:    maskText(m, ev.Reason, MaxReasonBytes),
		RequestID: maskID(m, ev.RequestID),
	}
	if out.Tenant == "" {
		return Event{}, fmt.Errorf("%w: tenant is empty (use SystemTenant for installation events)", ErrInvalidEvent)
	}
	if strings.ContainsFunc(out.Tenant, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Event{}, fmt.Errorf("%w: tenant id holds control characters", ErrInvalidEvent)
	}
	if !out.Action.Valid() {
		return Event{}, fmt.Errorf("%w: %q", ErrUnknownAction, truncate(string(ev.Action), 64))
	}
	switch out.Actor.Kind {
	case ActorUser, ActorVisitor, ActorSystem:
	default:
		return Event{}, fmt.Errorf("%w: actor kind must be user, visitor or system", ErrInvalidEvent)
	}
	if out.Actor.ID == "" {
		return Event{}, fmt.Errorf("%w: actor id is empty", ErrInvalidEvent)
	}
	switch out.Outcome {
	case Success, Failure:
	default:
		return Event{}, fmt.Errorf("%w: outcome must be success or failure", ErrInvalidEvent)
	}
	if out.Origin.Node == "" {
		out.Origin.Node = node
	}
	if ip := strings.TrimSpace(ev.Origin.IP); ip != "" {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return Event{}, fmt.Errorf("%w: origin IP is not an IP address", ErrInvalidEvent)
		}
		out.Origin.IP = addr.Unmap().WithZone("").String()
	}
	if len(ev.Details) > MaxDetailKeys {
		return Event{}, fmt.Errorf("%w: more than %d details", ErrInvalidEvent, MaxDetailKeys)
	}
	if len(ev.Details) > 0 {
		out.Details = make(map[string]string, len(ev.Details))
		for k, v := range ev.Details {
			if !validDetailKey(k) {
				return Event{}, fmt.Errorf("%w: detail key %q must be lower-case letters, digits, '_', '.' or '-'", ErrInvalidEvent, truncate(cleanText(k, 64), 64))
			}
			if m.Mask(k) != k {
				return Event{}, fmt.Errorf("%w: a detail key holds a card number", ErrSensitiveDetail)
			}
			if sensitiveKey(k) {
				return Event{}, fmt.Errorf("%w: detail key %q", ErrSensitiveDetail, k)
			}
			if sensitiveValue(v) {
				return Event{}, fmt.Errorf("%w: value of detail %q looks like key material", ErrSensitiveDetail, k)
			}
			out.Details[k] = maskText(m, v, MaxDetailValueBytes)
		}
	}
	return out, nil
}

// Package allowlist parses and applies IP allowlists: the CIDR ranges from
// which a tenant's users, or the holders of a role, may use the console and
// the API.
//
// A List is parsed once from text an administrator typed (Parse) or from a
// slice of entries (ParseEntries), is immutable afterwards, and answers
// membership without allocating. Addresses are compared with IPv4-mapped IPv6
// addresses (::ffff:192.0.2.1) unmapped to IPv4, on both sides, so a client
// reaching a dual-stack listener over IPv4 matches IPv4 entries.
//
// An empty List restricts nothing: Allows reports true for every address. That
// is a deliberate reading for tenants that have not configured a list; callers
// that must deny when nothing is configured test Empty first.
package allowlist

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Limits of a list.
const (
	// MaxEntries is the most entries a List may hold.
	MaxEntries = 10000
	// maxReported is the most bad entries a ParseError lists one by one.
	maxReported = 20
	// maxEcho is the most bytes of a bad entry an error quotes.
	maxEcho = 64
)

// Sentinel errors of the allowlist package.
var (
	// ErrInvalidEntry reports one or more entries that are not IP addresses
	// or prefixes; the error is a *ParseError naming each.
	ErrInvalidEntry = errors.New("allowlist: invalid entry")
	// ErrTooManyEntries reports a list over MaxEntries.
	ErrTooManyEntries = errors.New("allowlist: too many entries")
)

// EntryError is one bad entry.
type EntryError struct {
	// Position is the 1-based line (Parse) or index (ParseEntries).
	Position int
	// Line tells whether Position counts lines of text or entries of a slice.
	Line bool
	// Entry is the entry as written, without its comment, cut to 64 bytes.
	Entry string
	// Reason says what is wrong, for an administrator.
	Reason string
}

// Error renders the entry as `line 3 "10.0.0.300/8": not an IP address`.
func (e EntryError) Error() string {
	kind := "entry"
	if e.Line {
		kind = "line"
	}
	return fmt.Sprintf("%s %d %q: %s", kind, e.Position, e.Entry, e.Reason)
}

// ParseError lists the bad entries of a list, up to 20 of them, and counts the
// rest; errors.Is matches it against ErrInvalidEntry.
type ParseError struct {
	Entries []EntryError
	// More counts bad entries beyond those listed.
	More int
}

// Error names every listed bad entry.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("allowlist: ")
	for i, ee := range e.Entries {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(ee.Error())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "; and %d more", e.More)
	}
	return b.String()
}

// Unwrap returns ErrInvalidEntry.
func (e *ParseError) Unwrap() error { return ErrInvalidEntry }

// Parse reads a list from text, one entry per line. An entry is an IPv4 or
// IPv6 prefix in CIDR notation ("192.0.2.0/24", "2001:db8::/32") or a bare
// address, which stands for itself alone (/32 or /128). Everything from a '#'
// to the end of its line is a comment; surrounding spaces and blank lines are
// ignored. Host bits after the prefix length are cleared ("192.0.2.7/24"
// becomes "192.0.2.0/24"), IPv4-mapped IPv6 prefixes of length 96 or more
// become IPv4 prefixes, and duplicates collapse. Zones ("fe80::1%eth0") are
// refused. Every bad line is reported in one *ParseError.
func Parse(text string) (*List, error) {
	return parse(strings.Split(text, "\n"), true)
}

// ParseEntries reads a list from a slice, one entry per element, with the rules
// of Parse; errors count elements from 1.
func ParseEntries(entries []string) (*List, error) {
	return parse(entries, false)
}

func parse(items []string, lines bool) (*List, error) {
	var (
		prefixes []netip.Prefix
		perr     ParseError
		count    int
	)
	for i, raw := range items {
		entry := raw
		if j := strings.IndexByte(entry, '#'); j >= 0 {
			entry = entry[:j]
		}
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		count++
		if count > MaxEntries {
			return nil, fmt.Errorf("%w: more than %d", ErrTooManyEntries, MaxEntries)
		}
		p, reason := parseEntry(entry)
		if reason != "" {
			if len(perr.Entries) < maxReported {
				perr.Entries = append(perr.Entries, EntryError{Position: i + 1, Line: lines, Entry: cut(entry), Reason: reason})
			} else {
				perr.More++
			}
			continue
		}
		prefixes = append(prefixes, p)
	}
	if len(perr.Entries) > 0 {
		return nil, &perr
	}
	return compile(prefixes), nil
}

// parseEntry parses one trimmed entry, returning its canonical prefix or the
// reason it is bad.
func parseEntry(s string) (netip.Prefix, string) {
	addrPart, bitsPart, hasBits := strings.Cut(s, "/")
	if strings.ContainsAny(s, " \t\r\v\f") {
		return netip.Prefix{}, "contains a space; put one entry per line"
	}
	addr, err := netip.ParseAddr(addrPart)
	if err != nil {
		return netip.Prefix{}, "not an IP address"
	}
	if addr.Zone() != "" {
		return netip.Prefix{}, "an IPv6 zone (%) is not allowed"
	}
	maxBits := addr.BitLen()
	bits := maxBits
	if hasBits {
		n, err := strconv.Atoi(bitsPart)
		if err != nil || n < 0 || n > maxBits || bitsPart == "" || bitsPart[0] == '+' || bitsPart[0] == '-' ||
			(len(bitsPart) > 1 && bitsPart[0] == '0') {
			return netip.Prefix{}, fmt.Sprintf("the prefix length must be a number from 0 to %d", maxBits)
		}
		bits = n
	}
	return canonical(netip.PrefixFrom(addr, bits)), ""
}

// canonical clears host bits and turns an IPv4-mapped IPv6 prefix that lies
// wholly in ::ffff:0:0/96 into the IPv4 prefix it denotes.
func canonical(p netip.Prefix) netip.Prefix {
	p = p.Masked()
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// cut shortens an entry for an error message.
func cut(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	n := maxEcho
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

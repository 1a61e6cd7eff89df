package allowlist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// ErrInvalidPrefix reports an invalid netip.Prefix given to New.
var ErrInvalidPrefix = errors.New("allowlist: invalid prefix")

// List is a compiled, immutable allowlist, safe for concurrent use. The nil
// *List is the empty list.
type List struct {
	// prefixes are the canonical entries, sorted (IPv4 first) and distinct.
	prefixes []netip.Prefix
	// v4 and v6 are the entries as sorted, merged address ranges.
	v4 []range4
	v6 []range6
}

type range4 struct{ lo, hi uint32 }

type u128 struct{ hi, lo uint64 }

type range6 struct{ lo, hi u128 }

// New builds a List from prefixes, canonicalized as Parse does.
func New(prefixes ...netip.Prefix) (*List, error) {
	if len(prefixes) > MaxEntries {
		return nil, fmt.Errorf("%w: more than %d", ErrTooManyEntries, MaxEntries)
	}
	ps := make([]netip.Prefix, 0, len(prefixes))
	for i, p := range prefixes {
		if !p.IsValid() || p.Addr().Zone() != "" {
			return nil, fmt.Errorf("%w: prefix %d", ErrInvalidPrefix, i+1)
		}
		ps = append(ps, canonical(p))
	}
	return compile(ps), nil
}

// compile sorts, deduplicates and indexes canonical prefixes.
func compile(ps []netip.Prefix) *List {
	slices.SortFunc(ps, comparePrefix)
	ps = slices.Compact(ps)
	l := &List{prefixes: ps}
	for _, p := range ps {
		if p.Addr().Is4() {
			l.v4 = append(l.v4, toRange4(p))
		} else {
			l.v6 = append(l.v6, toRange6(p))
		}
	}
	l.v4 = merge4(l.v4)
	l.v6 = merge6(l.v6)
	return l
}

// comparePrefix orders IPv4 before IPv6, then by address, then shorter first.
func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

func toRange4(p netip.Prefix) range4 {
	a := p.Addr().As4()
	lo := binary.BigEndian.Uint32(a[:])
	host := uint32(0)
	if p.Bits() < 32 {
		host = ^uint32(0) >> p.Bits()
	}
	return range4{lo: lo, hi: lo | host}
}

func toRange6(p netip.Prefix) range6 {
	lo := addr128(p.Addr())
	var host u128
	switch b := p.Bits(); {
	case b == 0:
		host = u128{^uint64(0), ^uint64(0)}
	case b < 64:
		host = u128{^uint64(0) >> b, ^uint64(0)}
	case b < 128:
		host = u128{0, ^uint64(0) >> (b - 64)}
	}
	return range6{lo: lo, hi: u128{lo.hi | host.hi, lo.lo | host.lo}}
}

func addr128(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

// next returns a+1, and false when a is the largest value.
func (a u128) next() (u128, bool) {
	if a.lo != ^uint64(0) {
		return u128{a.hi, a.lo + 1}, true
	}
	if a.hi != ^uint64(0) {
		return u128{a.hi + 1, 0}, true
	}
	return a, false
}

// merge4 sorts ranges and joins those that overlap or touch.
func merge4(rs []range4) []range4 {
	slices.SortFunc(rs, func(a, b range4) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && (out[n-1].hi == ^uint32(0) || r.lo <= out[n-1].hi+1) {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

func merge6(rs []range6) []range6 {
	slices.SortFunc(rs, func(a, b range6) int {
		switch {
		case a.lo.less(b.lo):
			return -1
		case b.lo.less(a.lo):
			return 1
		}
		return 0
	})
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			after, ok := last.hi.next()
			if !ok || !after.less(r.lo) {
				if last.hi.less(r.hi) {
					last.hi = r.hi
				}
				continue
			}
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

// Contains reports whether addr lies in one of the list's entries; an
// IPv4-mapped address is compared as IPv4 and a zone is ignored. It is bare
// membership: the empty list contains nothing (see Allows).
func (l *List) Contains(addr netip.Addr) bool {
	if l == nil || !addr.IsValid() {
		return false
	}
	addr = addr.Unmap()
	if addr.Is4() {
		a := addr.As4()
		x := binary.BigEndian.Uint32(a[:])
		rs := l.v4
		i, j := 0, len(rs)
		for i < j { // first range with hi >= x
			h := i + (j-i)/2
			if rs[h].hi < x {
				i = h + 1
			} else {
				j = h
			}
		}
		return i < len(rs) && rs[i].lo <= x
	}
	x := addr128(addr)
	rs := l.v6
	i, j := 0, len(rs)
	for i < j {
		h := i + (j-i)/2
		if rs[h].hi.less(x) {
			i = h + 1
		} else {
			j = h
		}
	}
	return i < len(rs) && !x.less(rs[i].lo)
}

// Allows reports whether the list lets addr in: always for the empty list,
// which restricts nothing, and otherwise when the list contains it. An invalid
// (unknown) address is let in only by the empty list.
func (l *List) Allows(addr netip.Addr) bool {
	return l.Empty() || l.Contains(addr)
}

// Excludes reports whether the list would shut addr out; the console warns an
// administrator whose own address a new list excludes before saving it.
func (l *List) Excludes(addr netip.Addr) bool { return !l.Allows(addr) }

// AllowedBy reports whether every list lets addr in — a tenant's list and the
// lists of the roles in use. Nil and empty lists restrict nothing; with no
// lists at all, every address is allowed.
func AllowedBy(addr netip.Addr, lists ...*List) bool {
	for _, l := range lists {
		if !l.Allows(addr) {
			return false
		}
	}
	return true
}

// Empty reports whether the list has no entries.
func (l *List) Empty() bool { return l == nil || len(l.prefixes) == 0 }

// Len returns the number of distinct entries.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	return len(l.prefixes)
}

// Prefixes returns a copy of the canonical entries, IPv4 first, sorted.
func (l *List) Prefixes() []netip.Prefix {
	if l == nil {
		return nil
	}
	return slices.Clone(l.prefixes)
}

// Equal reports whether two lists have the same entries.
func (l *List) Equal(o *List) bool {
	var a, b []netip.Prefix
	if l != nil {
		a = l.prefixes
	}
	if o != nil {
		b = o.prefixes
	}
	return slices.Equal(a, b)
}

// String returns the canonical form for storage: one prefix per line in CIDR
// notation, host addresses as /32 or /128, IPv4 first, sorted, each line ending
// in a newline, no comments. Parse reads it back to an equal List; the empty
// list is the empty string.
func (l *List) String() string {
	if l.Empty() {
		return ""
	}
	var b strings.Builder
	for _, p := range l.prefixes {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

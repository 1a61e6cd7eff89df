package allowlist

import (
	"fmt"
	"net/netip"
	"testing"
)

func TestContains(t *testing.T) {
	l := mustParse(t, office)
	tests := []struct {
		addr string
		want bool
	}{
		{"192.0.2.0", true},
		{"192.0.2.255", true},
		{"192.0.1.255", false},
		{"192.0.3.0", false},
		{"198.51.100.7", true},
		{"198.51.100.6", false},
		{"198.51.100.8", false},
		{"203.0.113.42", true},
		{"::ffff:192.0.2.10", true},
		{"::ffff:198.51.100.8", false},
		{"2001:db8:abcd::1", true},
		{"2001:db8:abcd:ffff:ffff:ffff:ffff:ffff", true},
		{"2001:db8:abce::", false},
		{"2001:db8:abcc:ffff:ffff:ffff:ffff:ffff", false},
		{"2001:db8:abcd::1%eth0", true},
		{"::c000:20a", false}, // IPv4-compatible, not mapped: 192.0.2.10 must not match
		{"0.0.0.0", false},
		{"255.255.255.255", false},
		{"::", false},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := l.Contains(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestContainsEdges(t *testing.T) {
	tests := []struct {
		name string
		list string
		addr string
		want bool
	}{
		{"all ipv4 top", "0.0.0.0/0", "255.255.255.255", true},
		{"all ipv4 bottom", "0.0.0.0/0", "0.0.0.0", true},
		{"all ipv4 includes mapped", "0.0.0.0/0", "::ffff:1.2.3.4", true},
		{"all ipv4 excludes ipv6", "0.0.0.0/0", "2001:db8::1", false},
		{"all ipv6 top", "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"all ipv6 excludes mapped ipv4", "::/0", "::ffff:1.2.3.4", false},
		{"adjacent ranges merged low", "10.0.0.0/9\n10.128.0.0/9", "10.127.255.255", true},
		{"adjacent ranges merged high", "10.0.0.0/9\n10.128.0.0/9", "10.128.0.0", true},
		{"gap between ranges", "10.0.0.0/16\n10.2.0.0/16", "10.1.0.1", false},
		{"nested", "10.0.0.0/8\n10.1.0.0/16", "10.200.0.1", true},
		{"top ipv4 host", "255.255.255.255/32\n0.0.0.0/32", "255.255.255.255", true},
		{"top ipv6 host", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"ipv6 /64 boundary in", "2001:db8:0:1::/64", "2001:db8:0:1:ffff:ffff:ffff:ffff", true},
		{"ipv6 /64 boundary out", "2001:db8:0:1::/64", "2001:db8:0:2::", false},
		{"ipv6 /65", "2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff", true},
		{"ipv6 /65 out", "2001:db8::/65", "2001:db8::8000:0:0:0", false},
		{"ipv6 /1", "8000::/1", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustParse(t, tt.list)
			if got := l.Contains(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEmptyAndComposition(t *testing.T) {
	tenant := mustParse(t, "10.0.0.0/8\n2001:db8::/32")
	role := mustParse(t, "10.1.0.0/16")
	empty := mustParse(t, "# none\n")
	var none *List
	in, roleOnly, out := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("10.2.0.1"), netip.MustParseAddr("192.0.2.1")
	var unknown netip.Addr

	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"empty contains nothing", empty.Contains(in), false},
		{"empty allows all", empty.Allows(out), true},
		{"empty excludes nothing", empty.Excludes(out), false},
		{"nil list allows all", none.Allows(out), true},
		{"nil list contains nothing", none.Contains(out), false},
		{"list allows member", tenant.Allows(in), true},
		{"list excludes outsider", tenant.Excludes(out), true},
		{"unknown address refused by a list", tenant.Allows(unknown), false},
		{"unknown address allowed by the empty list", empty.Allows(unknown), true},
		{"tenant and role both allow", AllowedBy(in, tenant, role), true},
		{"tenant allows, role does not", AllowedBy(roleOnly, tenant, role), false},
		{"role list outside the tenant's", AllowedBy(out, mustParse(t, "192.0.2.0/24"), tenant), false},
		{"role without a list", AllowedBy(roleOnly, tenant, nil, empty), true},
		{"no lists", AllowedBy(out), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if !empty.Empty() || !none.Empty() || tenant.Empty() || none.Len() != 0 || tenant.Len() != 2 {
		t.Errorf("got Empty/Len wrong: empty %v/%d, nil %v/%d, tenant %v/%d",
			empty.Empty(), empty.Len(), none.Empty(), none.Len(), tenant.Empty(), tenant.Len())
	}
	if none.String() != "" || none.Prefixes() != nil || !none.Equal(empty) {
		t.Error("got a nil list that differs from the empty list")
	}
}

// TestContainsMatchesPrefixes checks the merged ranges against the plain
// prefixes on many lists and addresses.
func TestContainsMatchesPrefixes(t *testing.T) {
	text := "10.0.0.0/8\n10.0.0.0/9\n10.128.0.0/9\n11.0.0.0/8\n172.16.0.0/12\n192.168.1.0/24\n192.168.2.0/23\n" +
		"2001:db8::/32\n2001:db9::/32\n2001:db8:1::/48\nfe80::/10\nfe80::/64\n::1\n"
	l := mustParse(t, text)
	var addrs []netip.Addr
	for _, p := range l.Prefixes() {
		a := p.Addr()
		addrs = append(addrs, a, a.Prev(), lastAddr(p), lastAddr(p).Next())
	}
	for _, a := range addrs {
		if !a.IsValid() {
			continue
		}
		t.Run(fmt.Sprint(a), func(t *testing.T) {
			if got, want := l.Contains(a), refContains(l, a); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func refContains(l *List, a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range l.Prefixes() {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := range b {
		keep := p.Bits() - 8*i
		switch {
		case keep <= 0:
			b[i] = 0xff
		case keep < 8:
			b[i] |= 0xff >> keep
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

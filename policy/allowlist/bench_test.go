package allowlist

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// benchList is a tenant list of n IPv4 /24s and n IPv6 /48s, none adjacent,
// so none merge.
func benchList(b *testing.B, n int) *List {
	var sb strings.Builder
	for i := range n {
		j := 2 * i
		fmt.Fprintf(&sb, "10.%d.%d.0/24\n2001:db8:%x::/48\n", j/256, j%256, j)
	}
	return mustParse(b, sb.String())
}

func BenchmarkContains(b *testing.B) {
	addrs := []struct {
		name string
		addr netip.Addr
	}{
		{"ipv4 hit", netip.MustParseAddr("10.0.6.9")},
		{"ipv4 miss", netip.MustParseAddr("192.0.2.1")},
		{"mapped hit", netip.MustParseAddr("::ffff:10.0.6.9")},
		{"ipv6 hit", netip.MustParseAddr("2001:db8:6::1")},
		{"ipv6 miss", netip.MustParseAddr("2001:db9::1")},
	}
	for _, n := range []int{10, 1000} {
		l := benchList(b, n)
		for _, a := range addrs {
			b.Run(fmt.Sprintf("%d entries/%s", 2*n, a.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					l.Contains(a.addr)
				}
			})
		}
	}
}

func BenchmarkParse(b *testing.B) {
	text := benchList(b, 100).String()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(text); err != nil {
			b.Fatal(err)
		}
	}
}

package allowlist

import (
	"net/netip"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add(office, []byte{192, 0, 2, 1})
	f.Add("10.0.0.0/8\n10.128.0.0/9\n0.0.0.0/0", []byte{10, 1, 2, 3})
	f.Add("::ffff:0:0/96\n::/0\nfe80::1%eth0", []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4})
	f.Add("10.0.0.300/8\n# c\n\r\n 1.2.3.4 # x", []byte{1, 2, 3, 4})
	f.Add("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/1\n::/127", []byte{0xff})
	f.Fuzz(func(t *testing.T, text string, raw []byte) {
		l, err := Parse(text)
		if err != nil {
			if l != nil {
				t.Fatal("got a list with an error")
			}
			return
		}
		s := l.String()
		again, err := Parse(s)
		if err != nil {
			t.Fatalf("canonical form %q does not parse: %v", s, err)
		}
		if !again.Equal(l) || again.String() != s {
			t.Fatalf("round trip: %q became %q", s, again.String())
		}
		if len(raw) != 4 && len(raw) != 16 {
			return
		}
		a, _ := netip.AddrFromSlice(raw)
		if got, want := l.Contains(a), refContains(l, a); got != want {
			t.Fatalf("Contains(%v) = %v, prefixes say %v", a, got, want)
		}
		if l.Allows(a) == l.Excludes(a) {
			t.Fatalf("Allows and Excludes agree for %v", a)
		}
	})
}

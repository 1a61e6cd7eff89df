package allowlist

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func mustParse(t testing.TB, text string) *List {
	t.Helper()
	l, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return l
}

const office = `
# Acme Health offices
192.0.2.0/24        # Boston
198.51.100.7        # VPN exit, one host
2001:db8:abcd::/48  # IPv6 office
::ffff:203.0.113.0/120   # mapped form of 203.0.113.0/24
`

func TestParseCanonical(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"office", office, "192.0.2.0/24\n198.51.100.7/32\n203.0.113.0/24\n2001:db8:abcd::/48\n"},
		{"empty", "", ""},
		{"only comments and blanks", "# nothing yet\n\n   \n\t# still nothing\n", ""},
		{"bare ipv4 is /32", "10.1.2.3", "10.1.2.3/32\n"},
		{"bare ipv6 is /128", "2001:DB8::1", "2001:db8::1/128\n"},
		{"host bits cleared", "192.0.2.77/24", "192.0.2.0/24\n"},
		{"ipv6 host bits cleared", "2001:db8::dead:beef/32", "2001:db8::/32\n"},
		{"mapped bare address becomes ipv4", "::ffff:192.0.2.9", "192.0.2.9/32\n"},
		{"mapped /96 is all of ipv4", "::ffff:0:0/96", "0.0.0.0/0\n"},
		{"short mapped prefix stays ipv6", "::ffff:0:0/80", "::/80\n"},
		{"duplicates collapse", "10.0.0.0/8\n10.0.0.0/8\n10.9.9.9/8\n", "10.0.0.0/8\n"},
		{"nested entries kept", "10.0.0.0/8\n10.1.0.0/16\n", "10.0.0.0/8\n10.1.0.0/16\n"},
		{"sorted ipv4 first", "2001:db8::/32\n10.0.0.0/8\n1.0.0.0/8\n", "1.0.0.0/8\n10.0.0.0/8\n2001:db8::/32\n"},
		{"crlf and tabs", "\t10.0.0.0/8 \r\n 172.16.0.0/12\r\n", "10.0.0.0/8\n172.16.0.0/12\n"},
		{"everything", "0.0.0.0/0\n::/0", "0.0.0.0/0\n::/0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustParse(t, tt.in)
			if got := l.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			again := mustParse(t, l.String())
			if !again.Equal(l) {
				t.Errorf("round trip: got %q, want %q", again, l)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"bad octet", "10.0.0.0/8\n\n10.0.0.300/8", `allowlist: line 3 "10.0.0.300/8": not an IP address`},
		{"hostname", "office.example.com", `line 1 "office.example.com": not an IP address`},
		{"ipv4 prefix too long", "10.0.0.0/33", `line 1 "10.0.0.0/33": the prefix length must be a number from 0 to 32`},
		{"ipv6 prefix too long", "2001:db8::/129", `the prefix length must be a number from 0 to 128`},
		{"negative length", "10.0.0.0/-1", `from 0 to 32`},
		{"plus sign", "10.0.0.0/+8", `from 0 to 32`},
		{"leading zero length", "10.0.0.0/08", `from 0 to 32`},
		{"empty length", "10.0.0.0/", `from 0 to 32`},
		{"two slashes", "10.0.0.0/8/8", `from 0 to 32`},
		{"zone", "fe80::1%eth0", `line 1 "fe80::1%eth0": an IPv6 zone (%) is not allowed`},
		{"two on a line", "10.0.0.0/8 10.1.0.0/16", `contains a space; put one entry per line`},
		{"leading zeros in address", "010.0.0.1", `not an IP address`},
		{"comment does not hide the error", "10.0.0.0.0 # typo", `line 1 "10.0.0.0.0": not an IP address`},
		{"every bad line named", "1.2.3.4\nx\n5.6.7.8\ny/3\n", `line 2 "x": not an IP address; line 4 "y/3": not an IP address`},
		{"long entry cut", strings.Repeat("a", 100), `line 1 "` + strings.Repeat("a", 64) + `…": not an IP address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("got list %q, want an error", l)
			}
			if !errors.Is(err, ErrInvalidEntry) {
				t.Errorf("got %v, want ErrInvalidEntry", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseEntries(t *testing.T) {
	l, err := ParseEntries([]string{" 10.0.0.0/8 ", "", "# comment", "2001:db8::1"})
	if err != nil {
		t.Fatalf("ParseEntries: %v", err)
	}
	if got, want := l.String(), "10.0.0.0/8\n2001:db8::1/128\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = ParseEntries([]string{"10.0.0.0/8", "192.168.0.0/16", "10.0.0.300/8"})
	var pe *ParseError
	if !errors.As(err, &pe) || len(pe.Entries) != 1 {
		t.Fatalf("got %v, want a ParseError with one entry", err)
	}
	want := EntryError{Position: 3, Entry: "10.0.0.300/8", Reason: "not an IP address"}
	if pe.Entries[0] != want {
		t.Errorf("got %+v, want %+v", pe.Entries[0], want)
	}
	if got := err.Error(); got != `allowlist: entry 3 "10.0.0.300/8": not an IP address` {
		t.Errorf("got %q", got)
	}
}

func TestParseLimits(t *testing.T) {
	many := strings.Repeat("10.0.0.1\n", MaxEntries)
	if _, err := Parse(many); err != nil {
		t.Errorf("got %v for %d entries, want them accepted", err, MaxEntries)
	}
	if _, err := Parse(many + "10.0.0.2\n"); !errors.Is(err, ErrTooManyEntries) {
		t.Errorf("got %v, want ErrTooManyEntries", err)
	}
	_, err := Parse(strings.Repeat("bad\n", 25))
	var pe *ParseError
	if !errors.As(err, &pe) || len(pe.Entries) != maxReported || pe.More != 5 {
		t.Fatalf("got %v, want %d listed and 5 more", err, maxReported)
	}
	if !strings.HasSuffix(err.Error(), "; and 5 more") {
		t.Errorf("got %q, want it to count the rest", err)
	}
}

func TestNew(t *testing.T) {
	l, err := New(netip.MustParsePrefix("192.0.2.9/24"), netip.MustParsePrefix("::ffff:10.0.0.0/104"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.0/24")}
	if got := l.Prefixes(); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := New(netip.Prefix{}); !errors.Is(err, ErrInvalidPrefix) {
		t.Errorf("got %v, want ErrInvalidPrefix", err)
	}
	if _, err := New(make([]netip.Prefix, MaxEntries+1)...); !errors.Is(err, ErrTooManyEntries) {
		t.Errorf("got %v, want ErrTooManyEntries", err)
	}
}

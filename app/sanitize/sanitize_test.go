package sanitize

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		l    Limits
		want string
		err  error
	}{
		{"plain", "Hello", Message, "Hello", nil},
		{"markup kept as text", "<script>alert(1)</script>", Message, "<script>alert(1)</script>", nil},
		{"trimmed", "  hi there \n", Message, "hi there", nil},
		{"nul and escape removed", "a\x00b\x1b[31mc", Message, "ab[31mc", nil},
		{"c1 control removed", "a\u0085b\u009bc", Message, "abc", nil},
		{"bidi override removed", "invoice_\u202Efdp.exe", Message, "invoice_fdp.exe", nil},
		{"bidi isolates removed", "\u2066a\u2067b\u2068c\u2069", Message, "abc", nil},
		{"zero width space removed", "4111\u200B1111", Message, "41111111", nil},
		{"bom and soft hyphen removed", "\uFEFFab\u00ADc", Message, "abc", nil},
		{"tag characters removed", "a\U000E0041b", Message, "ab", nil},
		{"emoji joiner kept", "👩\u200D💻", Message, "👩\u200D💻", nil},
		{"crlf normalised", "a\r\nb\rc", Message, "a\nb\nc", nil},
		{"blank lines collapsed", "a\n\n\n\n\n\nb", Message, "a\n\n\nb", nil},
		{"line ends trimmed", "a  \nb", Message, "a\nb", nil},
		{"single line", "a\nb\tc", Name, "a b c", nil},
		{"nfc", "e\u0301", Message, "\u00e9", nil},
		{"invalid utf8", "a\xffb", Message, "a\uFFFDb", nil},
		{"line separator removed", "a\u2028b", Message, "ab", nil},
		{"empty", "   ", Message, "", ErrEmpty},
		{"only controls", "\x00\u202E\u200B", Message, "", ErrEmpty},
		{"too long", strings.Repeat("x", 101), Name, "", ErrTooLong},
		{"exactly max", strings.Repeat("é", 100), Name, strings.Repeat("é", 100), nil},
		{"decomposed counted after nfc", strings.Repeat("e\u0301", 100), Name, strings.Repeat("é", 100), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Text(tt.in, tt.l)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Text(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOptionalAndTruncate(t *testing.T) {
	if got, err := Optional(" \u200B ", Name); err != nil || got != "" {
		t.Errorf("Optional(blank) = %q, %v, want empty, nil", got, err)
	}
	if _, err := Optional(strings.Repeat("a", 101), Name); !errors.Is(err, ErrTooLong) {
		t.Errorf("Optional(long) error = %v, want ErrTooLong", err)
	}
	if got := Truncate(strings.Repeat("ab ", 50), Name); utf8.RuneCountInString(got) > 100 || !strings.HasPrefix(got, "ab ab") {
		t.Errorf("Truncate = %q (%d runes), want at most 100 runes", got, utf8.RuneCountInString(got))
	}
}

// checkClean asserts the invariants every cleaned text must hold.
func checkClean(t *testing.T, in string, l Limits) {
	t.Helper()
	out := Clean(in, l)
	if !utf8.ValidString(out) {
		t.Fatalf("Clean(%q) = %q: invalid UTF-8", in, out)
	}
	if !norm.NFC.IsNormalString(out) {
		t.Fatalf("Clean(%q) = %q: not NFC", in, out)
	}
	for _, r := range out {
		if (r != '\n' && r != '\t' && removed(r)) || (!l.MultiLine && (r == '\n' || r == '\t')) {
			t.Fatalf("Clean(%q) = %q: holds %U", in, out, r)
		}
		if unicode.Is(unicode.Bidi_Control, r) {
			t.Fatalf("Clean(%q) = %q: holds bidi control %U", in, out, r)
		}
	}
	if strings.TrimSpace(out) != out {
		t.Fatalf("Clean(%q) = %q: not trimmed", in, out)
	}
	if again := Clean(out, l); again != out {
		t.Fatalf("Clean not idempotent: %q → %q → %q", in, out, again)
	}
	got, err := Text(in, l)
	switch {
	case err == nil && got != out:
		t.Fatalf("Text(%q) = %q, Clean = %q", in, got, out)
	case errors.Is(err, ErrEmpty) && out != "":
		t.Fatalf("Text(%q) = ErrEmpty, Clean = %q", in, out)
	case errors.Is(err, ErrTooLong) && utf8.RuneCountInString(out) <= l.MaxRunes:
		t.Fatalf("Text(%q) = ErrTooLong for %d runes", in, utf8.RuneCountInString(out))
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{
		"hello", "<b>x</b>", "a\r\n\r\nb", "\u202Eabc", "e\u0301\u0301", "\xff\xfe", "\n\n\n\n \n\n x",
		"👩\u200D💻", "\u0000\u0085\u2028", "a \t\n b", "\u1100\u1161\u11A8", "\u0301start",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, in string, multi bool) {
		l := Limits{MaxRunes: 50, MultiLine: multi}
		checkClean(t, in, l)
	})
}

func BenchmarkClean(b *testing.B) {
	msg := "Hello, my card ending 1111 was declined at the checkout — can you help? 👩\u200D💻 <b>thanks</b>"
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		_, _ = Text(msg, Message)
	}
}

package visitor

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/compliance/pan"
)

func TestParseLanguage(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		err  error
	}{
		{name: "primary", in: "de", want: "de"},
		{name: "region lower case", in: "de-ch", want: "de-CH"},
		{name: "underscore", in: "en_US", want: "en-US"},
		{name: "script", in: "zh-hant-tw", want: "zh-Hant-TW"},
		{name: "numeric region", in: "es-419", want: "es-419"},
		{name: "variant", in: "de-CH-1901", want: "de-CH-1901"},
		{name: "grandfathered", in: "i-klingon", want: "tlh"},
		{name: "spaces trimmed", in: "  fr ", want: "fr"},
		{name: "short private use", in: "en-x-abc", want: "en-x-abc"},
		{name: "empty", in: "", err: ErrLanguage},
		{name: "star", in: "*", err: ErrLanguage},
		{name: "weighted", in: "en;q=1", err: ErrLanguage},
		{name: "unknown language", in: "zz", err: ErrLanguage},
		{name: "markup", in: "<script>", err: ErrLanguage},
		{name: "too long", in: "en-" + strings.Repeat("abcdefgh-", 4), err: ErrLanguage},
		{name: "card number as a subtag", in: "zqabc-4111111111111111", err: ErrLanguageCardNumber},
		{name: "card number in private use", in: "x-41111111-11111111", err: ErrLanguageCardNumber},
		{name: "card number in groups of four", in: "en-x-4111-1111-1111-1111", err: ErrLanguageCardNumber},
		{name: "mastercard spread over subtags", in: "en-x-5500-0000-0000-0004", err: ErrLanguageCardNumber},
		{name: "amex", in: "x-3400-0000-0000-009", err: ErrLanguageCardNumber},
		{name: "bare card number", in: "4111111111111111", err: ErrLanguageCardNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLanguage(tt.in)
			if !errors.Is(err, tt.err) || (tt.err != nil && err == nil) {
				t.Fatalf("ParseLanguage(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("ParseLanguage(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanLanguageDrops(t *testing.T) {
	tests := []struct{ in, want, fallback, or string }{
		{in: "de-DE,de;q=0.9", want: "de-DE", fallback: "en", or: "de-DE"},
		{in: "x-41111111-11111111", want: "", fallback: "en", or: "en"},
		{in: "zqabc-4111111111111111", want: "", fallback: "de", or: "de"},
		{in: "", want: "", fallback: "en", or: "en"},
	}
	for _, tt := range tests {
		if got := CleanLanguage(tt.in); got != tt.want {
			t.Errorf("CleanLanguage(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := LanguageOr(tt.in, tt.fallback); got != tt.or {
			t.Errorf("LanguageOr(%q, %q) = %q, want %q", tt.in, tt.fallback, got, tt.or)
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{in: "0195f3a2-7c4e-7b1a-9d3e-1f2a3b4c5d6e", want: "0195f3a2-7c4e-7b1a-9d3e-1f2a3b4c5d6e", ok: true},
		{in: "0195F3A2-7C4E-7B1A-9D3E-1F2A3B4C5D6E", want: "0195f3a2-7c4e-7b1a-9d3e-1f2a3b4c5d6e", ok: true},
		{in: "4111111111111111"},
		{in: "{0195f3a2-7c4e-7b1a-9d3e-1f2a3b4c5d6e}"},
		{in: "urn:uuid:0195f3a2-7c4e-7b1a-9d3e-1f2a3b4c5d6e"},
		{in: "00000000-0000-0000-0000-000000000000"},
		{in: ""},
	}
	for _, tt := range tests {
		got, err := ParseID(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseID(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParseLanguage checks the normaliser's promises on any input: a tag it accepts is bounded,
// canonical (parsing it again gives it back) and holds no card number.
func FuzzParseLanguage(f *testing.F) {
	for _, s := range []string{"de", "de-ch", "en_US", "zh-hant-tw-u-co-pinyin", "x-41111111-11111111",
		"zqabc-4111111111111111", "en-x-4111-1111-1111-1111", "i-klingon", "*", "", "es-419", "\x00", "de-DE,de;q=0.9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseLanguage(s)
		if err != nil {
			if got != "" {
				t.Fatalf("ParseLanguage(%q) = %q with error %v", s, got, err)
			}
			return
		}
		if got == "" || len(got) > MaxLanguageLen {
			t.Fatalf("ParseLanguage(%q) = %q: empty or longer than %d", s, got, MaxLanguageLen)
		}
		if pan.Contains(got) || holdsCardNumber(got) {
			t.Fatalf("ParseLanguage(%q) = %q holds a card number", s, got)
		}
		if again, err := ParseLanguage(got); err != nil || again != got {
			t.Fatalf("ParseLanguage(%q) = %q, which parses again as %q, %v", s, got, again, err)
		}
	})
}

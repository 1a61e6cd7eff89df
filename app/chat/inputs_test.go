package chat

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/compliance/pan"
)

// inputRefusal names what an input check answered: a card number refused, another field error, or
// nothing.
func inputRefusal(err error) (kind, field string) {
	var card *CardNumberError
	var inv *InvalidError
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &card):
		return "card", card.Field
	case errors.As(err, &inv):
		return "invalid", inv.Field
	}
	return "other", err.Error()
}

func TestParseBanValue(t *testing.T) {
	tests := []struct {
		name, kind, value string
		want              string
		refused, field    string
	}{
		{name: "ipv4", kind: BanIP, value: "203.0.113.7", want: "203.0.113.7"},
		{name: "ipv4-mapped ipv6", kind: BanIP, value: "::ffff:203.0.113.7", want: "203.0.113.7"},
		{name: "ipv6", kind: BanIP, value: "2001:DB8::1", want: "2001:db8::1"},
		{name: "cidr host bits cleared", kind: BanCIDR, value: "203.0.113.9/24", want: "203.0.113.0/24"},
		{name: "visitor id", kind: BanVisitor, value: "0195F3A2-7C4E-7B1A-9D3E-1F2A3B4C5D6E", want: "0195f3a2-7c4e-7b1a-9d3e-1f2a3b4c5d6e"},
		{name: "card number as visitor id", kind: BanVisitor, value: "4111111111111111", refused: "card", field: "value"},
		{name: "card number as ip", kind: BanIP, value: "4111 1111 1111 1111", refused: "card", field: "value"},
		{name: "card number as cidr", kind: BanCIDR, value: "5500-0000-0000-0004/8", refused: "card", field: "value"},
		{name: "card number in an ipv6 zone", kind: BanIP, value: "fe80::1%6011000000000004", refused: "card", field: "value"},
		{name: "ipv6 zone", kind: BanIP, value: "fe80::1%eth0", refused: "invalid", field: "value"},
		{name: "word as visitor id", kind: BanVisitor, value: "mallory", refused: "invalid", field: "value"},
		{name: "short digits as visitor id", kind: BanVisitor, value: "12345", refused: "invalid", field: "value"},
		{name: "host name", kind: BanIP, value: "example.com", refused: "invalid", field: "value"},
		{name: "huge value", kind: BanCIDR, value: strings.Repeat("1", 100), refused: "invalid", field: "value"},
		{name: "unknown kind", kind: "email", value: "a@b.example", refused: "invalid", field: "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBanValue(tt.kind, tt.value)
			if kind, field := inputRefusal(err); kind != tt.refused || field != tt.field {
				t.Fatalf("ParseBanValue(%q, %q) error = %v, want %s on %q", tt.kind, tt.value, err, tt.refused, tt.field)
			}
			if got != tt.want {
				t.Errorf("ParseBanValue(%q, %q) = %q, want %q", tt.kind, tt.value, got, tt.want)
			}
		})
	}
}

// FuzzParseBanValue checks that an accepted ban value is canonical (accepted again unchanged),
// bounded and free of card numbers, whatever the input.
func FuzzParseBanValue(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "::ffff:10.0.0.1", "2001:db8::/32", "10.1.2.3/8", "fe80::1%eth0",
		"0195f3a2-7c4e-7b1a-9d3e-1f2a3b4c5d6e", "4111111111111111", "4111 1111 1111 1111", ""} {
		for _, k := range []string{BanIP, BanCIDR, BanVisitor} {
			f.Add(k, s)
		}
	}
	f.Fuzz(func(t *testing.T, kind, value string) {
		got, err := ParseBanValue(kind, value)
		if err != nil {
			if got != "" {
				t.Fatalf("ParseBanValue(%q, %q) = %q with error %v", kind, value, got, err)
			}
			return
		}
		if len(got) > maxBanValue || pan.Contains(got) {
			t.Fatalf("ParseBanValue(%q, %q) = %q: too long or holds a card number", kind, value, got)
		}
		if again, err := ParseBanValue(kind, got); err != nil || again != got {
			t.Fatalf("ParseBanValue(%q, %q) = %q, which parses again as %q, %v", kind, value, got, again, err)
		}
	})
}

func TestSettingsCardNumbers(t *testing.T) {
	refused := []struct {
		name  string
		edit  func(*Settings)
		field string
	}{
		{"default language", func(s *Settings) { s.DefaultLanguage = "x-41111111-11111111" }, "default_language"},
		{"texts language", func(s *Settings) { s.Texts = map[string]map[string]string{"en-x-4111-1111-1111-1111": {"title": "x"}} }, "texts"},
		{"text key", func(s *Settings) { s.Texts = map[string]map[string]string{"de": {"t4111111111111111": "x"}} }, "texts"},
		{"question id", func(s *Settings) { s.Prechat.Questions = []Question{{ID: "q4111111111111111", Label: "x"}} }, "prechat.questions"},
		{"sensitive param", func(s *Settings) { s.SensitiveParams = []string{"card.5500-0000-0000-0004"} }, "sensitive_params"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			tt.edit(&s)
			if kind, field := inputRefusal(s.Validate()); kind != "card" || field != tt.field {
				t.Fatalf("Validate = %s on %q, want a card number refused on %s", kind, field, tt.field)
			}
		})
	}

	s := DefaultSettings()
	s.DefaultLanguage = "de-ch"
	s.Texts = map[string]map[string]string{"en_us": {"title": "Paste 4111 1111 1111 1111 here", "consent_text": "ok"}}
	s.Appearance.LauncherLabel = "Card 3400 0000 0000 009"
	s.Prechat.ConsentText = "We never keep 6011000000000004."
	s.Prechat.Questions = []Question{{ID: "policy", Label: "Policy (not 3530 1113 3330 0000)"}}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate = %v, want free text accepted and masked", err)
	}
	if s.DefaultLanguage != "de-CH" {
		t.Errorf("default language = %q, want the canonical de-CH", s.DefaultLanguage)
	}
	title := s.Texts["en-US"]["title"]
	for _, got := range []string{title, s.Appearance.LauncherLabel, s.Prechat.ConsentText, s.Prechat.Questions[0].Label} {
		if pan.Contains(got) {
			t.Errorf("stored text %q holds a card number, want it masked to the last four", got)
		}
	}
	if !strings.HasSuffix(title, "1111 here") || strings.Contains(title, "4111") {
		t.Errorf("title = %q, want the card number masked to its last four digits", title)
	}

	dup := DefaultSettings()
	dup.Texts = map[string]map[string]string{"de-ch": {"title": "a"}, "de-CH": {"title": "b"}}
	if kind, field := inputRefusal(dup.Validate()); kind != "invalid" || field != "texts" {
		t.Errorf("two spellings of one language = %s on %q, want invalid texts", kind, field)
	}
}

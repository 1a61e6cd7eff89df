package account_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/compliance/pan"
)

func TestCleanEmail(t *testing.T) {
	tests := []struct {
		name, in, want string
		card           bool
		invalid        bool
	}{
		{name: "plain", in: "Ada@Acme.test", want: "Ada@Acme.test"},
		{name: "trimmed", in: "  ada@acme.test ", want: "ada@acme.test"},
		{name: "plus tag", in: "ada+chat@acme.test", want: "ada+chat@acme.test"},
		{name: "card number as local part", in: "4111111111111111@acme.test", card: true},
		{name: "spaced card number", in: "\"4111 1111 1111 1111\"@acme.test", card: true},
		{name: "dashed card number in a tag", in: "ada+5500-0000-0000-0004@acme.test", card: true},
		{name: "dotted amex in a tag", in: "x+3400.0000.0000.009@acme.test", card: true},
		{name: "card number as domain", in: "ada@6011000000000004.test", card: true},
		{name: "full-width digits", in: "ada+４１１１１１１１１１１１１１１１@acme.test", card: true},
		{name: "display name form", in: "Ada <ada@acme.test>", invalid: true},
		{name: "no domain dot", in: "ada@localhost", invalid: true},
		{name: "local part over 64", in: strings.Repeat("a", 65) + "@acme.test", invalid: true},
		{name: "too long", in: "a@" + strings.Repeat("b", 250) + ".test", invalid: true},
		{name: "empty", in: "", invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, key, err := account.CleanEmail(tt.in)
			var card *account.CardNumberError
			switch {
			case tt.card:
				if !errors.As(err, &card) || card.Field != "email" {
					t.Fatalf("CleanEmail(%q) error = %v, want a card number refused on email", tt.in, err)
				}
			case tt.invalid:
				if !errors.Is(err, account.ErrInvalidEmail) {
					t.Fatalf("CleanEmail(%q) error = %v, want ErrInvalidEmail", tt.in, err)
				}
			case err != nil || got != tt.want || key != strings.ToLower(tt.want):
				t.Fatalf("CleanEmail(%q) = %q, %q, %v; want %q", tt.in, got, key, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "1111") {
				t.Errorf("error %q repeats the value", err)
			}
		})
	}
}

func TestCleanDisplayName(t *testing.T) {
	tests := []struct {
		name, in, want string
		card, invalid  bool
	}{
		{name: "plain", in: " Nia Ortega ", want: "Nia Ortega"},
		{name: "empty", in: "", want: ""},
		{name: "digits that are no card", in: "Agent 007", want: "Agent 007"},
		{name: "card number", in: "Nia 4111 1111 1111 1111", card: true},
		{name: "dotted card number", in: "3400.0000.0000.009", card: true},
		{name: "control character", in: "Nia\x00", invalid: true},
		{name: "too long", in: strings.Repeat("n", account.MaxDisplayNameRunes+1), invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := account.CleanDisplayName(tt.in)
			var card *account.CardNumberError
			switch {
			case tt.card:
				if !errors.As(err, &card) || card.Field != "name" {
					t.Fatalf("CleanDisplayName(%q) error = %v, want a card number refused on name", tt.in, err)
				}
			case tt.invalid:
				if !errors.Is(err, account.ErrInvalidName) {
					t.Fatalf("CleanDisplayName(%q) error = %v, want ErrInvalidName", tt.in, err)
				}
			case err != nil || got != tt.want:
				t.Fatalf("CleanDisplayName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestSessionUserAgent(t *testing.T) {
	tests := []struct{ name, in string }{
		{"plain", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"},
		{"card number", "Mozilla/5.0 4111 1111 1111 1111"},
		{"card number at the cut", strings.Repeat("x", account.MaxUserAgentLen-10) + " 4111111111111111"},
		{"huge header", strings.Repeat("5500000000000004 ", 500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := account.SessionUserAgent(tt.in)
			if len(got) > account.MaxUserAgentLen || pan.Contains(got) || strings.Contains(got, "4111111111111111") {
				t.Fatalf("SessionUserAgent(%.40q…) = %q: longer than %d or holds a card number", tt.in, got, account.MaxUserAgentLen)
			}
			if !pan.Contains(tt.in) && len(tt.in) <= account.MaxUserAgentLen && got != tt.in {
				t.Errorf("SessionUserAgent(%q) = %q, want it unchanged", tt.in, got)
			}
		})
	}
}

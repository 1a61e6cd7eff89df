package pan

import (
	"strings"
	"testing"
)

func TestContextExpiryAndCode(t *testing.T) {
	m := newMasker(t, Options{})
	const card, masked = "4111 1111 1111 1111", "4111 11•• •••• 1111"
	tests := []struct{ name, in, want string }{
		{"expiry and cvv keywords after", card + " exp 12/26 cvv 123", masked + " exp ••/•• cvv •••"},
		{"bare expiry and code after", card + " 12/26 123", masked + " ••/•• •••"},
		{"bare code then expiry", card + ", 123, 12/2026", masked + ", •••, ••/••••"},
		{"four-digit year with dash", card + " expires 03-2027", masked + " expires ••-••••"},
		{"dotted expiry", card + " 7.27", masked + " •.••"},
		{"spaced slash", card + " exp 12 / 26", masked + " exp •• / ••"},
		{"expiry keyword with space separator", card + " valid thru 12 26", masked + " valid thru •• ••"},
		{"expiry keyword without separator", card + " exp: 1226", masked + " exp: ••••"},
		{"expiry keyword MMYYYY", card + " expiry date 122026", masked + " expiry date ••••••"},
		{"cvv2 glued", card + " CVV2:123", masked + " CVV2:•••"},
		{"cvc is", card + " and my CVC is 987", masked + " and my CVC is •••"},
		{"security code phrase", card + ". Security code: 4321", masked + ". Security code: ••••"},
		{"card code phrase", card + " card code 555", masked + " card code •••"},
		{"cid for amex", "3782 822463 10005 CID 1234", "3782 82•••• •0005 CID ••••"},
		{"keywords before the card", "cvv 123, exp 12/26, card " + card, "cvv •••, exp ••/••, card " + masked},
		{"expiry before the card", "12/26 " + card, "••/•• " + masked},
		{"multi-line message", "card: " + card + "\nexp: 12/26\ncvv: 123", "card: " + masked + "\nexp: ••/••\ncvv: •••"},
		{"case-insensitive keyword", card + " Cvv 123", masked + " Cvv •••"},
		{"full-width code", card + " cvv １２３", masked + " cvv •••"},
		{"bare number after words is kept", card + " I have 123 points", masked + " I have 123 points"},
		{"five digits are not a code", card + " cvv 12345", masked + " cvv 12345"},
		{"two digits are not a code", card + " cvv 12", masked + " cvv 12"},
		{"phone-like bare number is kept", card + " 123-456-7890", masked + " 123-456-7890"},
		{"invalid month is not an expiry", card + " exp 13/26 thanks", masked + " exp 13/26 thanks"},
		{"five-digit year is not an expiry", card + " on 12/20261", masked + " on 12/20261"},
		{"far away text is kept", card + strings.Repeat(" blah", 20) + " cvv 123", masked + strings.Repeat(" blah", 20) + " cvv 123"},
		{"card number label is not a code keyword", "card number 4111111111111111 ok", "card number 411111••••••1111 ok"},
		{"no card, no context", "cvv 123 exp 12/26", "cvv 123 exp 12/26"},
		{"iso date before is not an expiry", "2025-03-31 12:00 visitor wrote " + card, "2025-03-31 12:00 visitor wrote " + masked},
		{"us date after is not an expiry", card + " on 03/31/2025", masked + " on 03/31/2025"},
		{"next card is not a code", card + " 5555 5555 5555 4444", masked + " 5555 55•• •••• 4444"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, res := m.Mask(tt.in)
			if got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, sp := range res.Context {
				if sp.Kind != SpanExpiry && sp.Kind != SpanCode {
					t.Errorf("span %+v has kind %v", sp, sp.Kind)
				}
			}
		})
	}
}

func TestContextSpansReported(t *testing.T) {
	m := newMasker(t, Options{})
	in := "4111111111111111 exp 12/26 cvv 123"
	_, res := m.Mask(in)
	want := []Span{{Start: 21, End: 26, Kind: SpanExpiry}, {Start: 31, End: 34, Kind: SpanCode}}
	if len(res.Context) != len(want) {
		t.Fatalf("got context %+v, want %+v", res.Context, want)
	}
	for i := range want {
		if res.Context[i] != want[i] {
			t.Errorf("context[%d] = %+v, want %+v", i, res.Context[i], want[i])
		}
	}
}

func TestContextDisabledAndWindow(t *testing.T) {
	in := "4111111111111111 exp 12/26 cvv 123"
	off := newMasker(t, Options{ContextRunes: -1})
	if got := off.MaskString(in); got != "411111••••••1111 exp 12/26 cvv 123" {
		t.Errorf("with context off got %q", got)
	}
	narrow := newMasker(t, Options{ContextRunes: 12})
	if got := narrow.MaskString(in); got != "411111••••••1111 exp ••/•• cvv 123" {
		t.Errorf("with a 12-rune window got %q", got)
	}
}

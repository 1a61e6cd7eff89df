package transcript

import (
	"errors"
	"strings"
	"testing"
)

func TestCleanTag(t *testing.T) {
	cases := []struct {
		name, in, want string
		card, bad      bool
	}{
		{name: "normalised", in: "  Billing   Dispute ", want: "billing dispute"},
		{name: "unicode letters", in: "Réclamation_2", want: "réclamation_2"},
		{name: "card number", in: "4111 1111 1111 1111", card: true},
		{name: "card number in text", in: "vip-4111111111111111", card: true},
		{name: "markup", in: "<b>", bad: true},
		{name: "empty", in: "   ", bad: true},
		{name: "too long", in: strings.Repeat("a", MaxTagLen+1), bad: true},
		{name: "longest", in: strings.Repeat("a", MaxTagLen), want: strings.Repeat("a", MaxTagLen)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CleanTag(tc.in)
			var ie *InputError
			switch {
			case tc.card:
				if !errors.As(err, &ie) || !ie.CardNumber {
					t.Errorf("got %q, %v; want a card number refusal", got, err)
				}
			case tc.bad:
				if !errors.As(err, &ie) || ie.CardNumber {
					t.Errorf("got %q, %v; want an input error", got, err)
				}
			case err != nil || got != tc.want:
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestCleanReason(t *testing.T) {
	required, optional := Settings{RequireReason: true}, Settings{}
	if _, err := CleanReason(required, "  "); !errors.Is(err, ErrReasonRequired) {
		t.Errorf("blank reason when required: %v", err)
	}
	if got, err := CleanReason(optional, ""); err != nil || got != "" {
		t.Errorf("no reason when optional: %q, %v", got, err)
	}
	if got, err := CleanReason(required, " Ticket\t42  follow-up "); err != nil || got != "Ticket 42 follow-up" {
		t.Errorf("reason = %q, %v", got, err)
	}
	var ie *InputError
	if _, err := CleanReason(optional, "card 5500-0000-0000-0004"); !errors.As(err, &ie) || !ie.CardNumber || ie.Field != "reason" {
		t.Errorf("card number in reason: %v", err)
	}
	if _, err := CleanReason(optional, strings.Repeat("r", MaxReasonLen+1)); !errors.As(err, &ie) {
		t.Errorf("long reason: %v", err)
	}
}

func TestMasks(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{maskName("Ada King Lovelace"), "A*** K*** L***"},
		{maskName(""), ""},
		{maskEmail("ada@example.test"), "a***@example.test"},
		{maskEmail("no-at-sign"), "***"},
		{maskIP("203.0.113.7"), "203.0.x.x"},
		{maskIP("2001:db8::1"), "2001:…"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestScopeClause(t *testing.T) {
	for _, tc := range []struct {
		name string
		sc   Scope
		want string
	}{
		{name: "all", sc: Scope{All: true}, want: "1 = 1"},
		{name: "none", sc: Scope{UserID: "u"}, want: "1 = 0"},
		{name: "departments", sc: Scope{Departments: []string{"d1"}}, want: "(c.department_id IN ?)"},
		{name: "own in departments", sc: Scope{UserID: "u", OwnDepartments: []string{"d1"}}, want: "c.department_id IN ?))"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := tc.sc.clause()
			if !strings.Contains(got, tc.want) {
				t.Errorf("clause = %q, want it to hold %q", got, tc.want)
			}
		})
	}
}

// FuzzContainsFold: the fast path agrees with strings.Contains over lower-cased text.
func FuzzContainsFold(f *testing.F) {
	for _, s := range []string{"Refund REQUEST", "ÄÖÜ refund", "", "x"} {
		f.Add(s, "refund")
	}
	f.Fuzz(func(t *testing.T, s, needle string) {
		needle = strings.ToLower(needle)
		if needle != strings.ToLower(needle) {
			return
		}
		if got, want := containsFold(s, needle), strings.Contains(strings.ToLower(s), needle); got != want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", s, needle, got, want)
		}
	})
}

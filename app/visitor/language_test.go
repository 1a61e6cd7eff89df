package visitor

import (
	"reflect"
	"strings"
	"testing"
)

func TestLanguages(t *testing.T) {
	tests := []struct {
		name     string
		explicit string
		accept   string
		want     []string
	}{
		{name: "explicit only", explicit: "de", want: []string{"de"}},
		{name: "header only", accept: "de-DE,de;q=0.9,en;q=0.8", want: []string{"de-DE", "de", "en"}},
		{name: "explicit first", explicit: "fr", accept: "de-DE,de;q=0.9", want: []string{"fr", "de-DE", "de"}},
		{name: "by q-value", accept: "en;q=0.5, fr;q=0.9, de", want: []string{"de", "fr", "en"}},
		{name: "equal q keeps order", accept: "it, es", want: []string{"it", "es"}},
		{name: "repeats once", explicit: "de-DE", accept: "de-de,de", want: []string{"de-DE", "de"}},
		{name: "q=0 and star left out", accept: "*, en;q=0, de;q=0.1", want: []string{"de"}},
		{name: "malformed left out", explicit: "<script>", accept: "de;q=x, en;q=2, fr;q=0.3, x y", want: []string{"fr"}},
		{name: "nothing", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Languages(tt.explicit, tt.accept); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Languages(%q, %q) = %q, want %q", tt.explicit, tt.accept, got, tt.want)
			}
		})
	}
	long := strings.Repeat("en,", 100) + strings.Repeat("de,", 100)
	if got := Languages("", long); len(got) != 1 {
		t.Errorf("Languages of a long header = %q, want only the first ten entries read", got)
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name    string
		prefs   []string
		offered []string
		want    string
	}{
		{name: "exact", prefs: []string{"de"}, offered: []string{"en", "de"}, want: "de"},
		{name: "case-insensitive", prefs: []string{"de-ch"}, offered: []string{"en", "de-CH"}, want: "de-CH"},
		{name: "region to primary", prefs: []string{"de-AT"}, offered: []string{"en", "de"}, want: "de"},
		{name: "primary to region", prefs: []string{"de"}, offered: []string{"en", "de-CH"}, want: "de-CH"},
		{name: "exact region before primary", prefs: []string{"de-CH"}, offered: []string{"de", "de-CH"}, want: "de-CH"},
		{name: "first preference wins", prefs: []string{"fr", "de"}, offered: []string{"de", "fr"}, want: "fr"},
		{name: "later preference", prefs: []string{"it", "de"}, offered: []string{"en", "de"}, want: "de"},
		{name: "no match falls back", prefs: []string{"ja"}, offered: []string{"en", "de"}, want: "en"},
		{name: "no preference falls back", offered: []string{"de"}, want: "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Negotiate(tt.prefs, tt.offered, "en"); got != tt.want {
				t.Errorf("Negotiate(%q, %q) = %q, want %q", tt.prefs, tt.offered, got, tt.want)
			}
		})
	}
}

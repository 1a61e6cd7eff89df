package chat

import (
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/visitor"
)

// TestTextsForNegotiates: the widget's language comes from the request (the explicit lang, then
// Accept-Language), falls back to the site's default, and only the site's own texts in that
// language are sent.
func TestTextsForNegotiates(t *testing.T) {
	s := DefaultSettings()
	s.DefaultLanguage = "en"
	s.Texts = map[string]map[string]string{
		"en":    {"greeting": "Welcome to Acme!"},
		"de":    {"greeting": "Willkommen bei Acme!", "title": "Acme-Chat"},
		"de-CH": {"greeting": "Grüezi bei Acme!"},
		"fr":    {"greeting": "Bienvenue chez Acme !"},
	}
	tests := []struct {
		name     string
		explicit string
		accept   string
		lang     string
		texts    map[string]string
	}{
		{name: "explicit", explicit: "de", accept: "fr", lang: "de", texts: s.Texts["de"]},
		{name: "explicit regional to primary", explicit: "de-DE", lang: "de", texts: s.Texts["de"]},
		{name: "regional over primary", explicit: "de-CH", lang: "de-CH",
			texts: map[string]string{"greeting": "Grüezi bei Acme!", "title": "Acme-Chat"}},
		{name: "Accept-Language when explicit is not offered", explicit: "ja", accept: "it;q=0.9, fr;q=0.8, de;q=0.7", lang: "fr", texts: s.Texts["fr"]},
		{name: "browser's language", explicit: "de-AT", accept: "de-AT,de;q=0.9", lang: "de", texts: s.Texts["de"]},
		{name: "site default when nothing matches", explicit: "ja", accept: "ko", lang: "en", texts: s.Texts["en"]},
		{name: "site default without preferences", lang: "en", texts: s.Texts["en"]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			texts, lang := s.TextsFor(visitor.Languages(tt.explicit, tt.accept)...)
			if lang != tt.lang || !reflect.DeepEqual(texts, tt.texts) {
				t.Errorf("TextsFor = %s %v, want %s %v", lang, texts, tt.lang, tt.texts)
			}
		})
	}
	if got, want := s.Languages(), []string{"en", "de", "de-CH", "fr"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Languages = %q, want %q (default first)", got, want)
	}

	// A German site without any texts: German, with the widget's own German wording.
	de := DefaultSettings()
	de.DefaultLanguage = "de"
	if texts, lang := de.TextsFor("en-US", "en"); lang != "de" || len(texts) != 0 {
		t.Errorf("German site without texts = %s %v, want de and no texts", lang, texts)
	}
}

func TestTextKeys(t *testing.T) {
	tests := []struct {
		name  string
		texts map[string]string
		ok    bool
	}{
		{name: "built-in key", texts: map[string]string{"greeting": "Hallo"}, ok: true},
		{name: "question label", texts: map[string]string{"question_account2": "Kontoart"}, ok: true},
		{name: "consent text up to 1000", texts: map[string]string{"consent_text": strings.Repeat("a", 1000)}, ok: true},
		{name: "consent text over 1000", texts: map[string]string{"consent_text": strings.Repeat("a", 1001)}},
		{name: "other text over 500", texts: map[string]string{"greeting": strings.Repeat("a", 501)}},
		{name: "upper case key", texts: map[string]string{"Greeting": "Hallo"}},
		{name: "key starting with a digit", texts: map[string]string{"1st": "Hallo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			s.Texts = map[string]map[string]string{"de": tt.texts}
			if err := s.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

package chathttp_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/chathttp"
)

// TestWidgetConfigLanguage: the widget configuration is in the language the request asks for
// (the lang parameter, then Accept-Language), else the site's default, with the site's own texts
// in that language only.
func TestWidgetConfigLanguage(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		n := e.node(e.db, chat.Limits{})
		admin := e.agent("Admin", map[string][]string{"site.manage": nil})
		set := chat.DefaultSettings()
		set.DefaultLanguage = "en"
		set.Texts = map[string]map[string]string{
			"en": {"greeting": "Welcome to Acme!"},
			"de": {"greeting": "Willkommen bei Acme!", "question_account": "Kontoart"},
		}
		if code := do(t, http.MethodPut, n.srv.URL+"/api/v1/chat/sites/"+e.site.ID+"/settings", "", set, nil, "X-Test-User", admin); code != http.StatusOK {
			t.Fatalf("settings = %d", code)
		}
		tests := []struct {
			name   string
			query  string
			accept string
			lang   string
			texts  map[string]string
		}{
			{name: "lang parameter", query: "?lang=de", accept: "en", lang: "de", texts: set.Texts["de"]},
			{name: "regional lang parameter", query: "?lang=de-AT", lang: "de", texts: set.Texts["de"]},
			{name: "Accept-Language", accept: "fr-FR,fr;q=0.9,de;q=0.8,en;q=0.5", lang: "de", texts: set.Texts["de"]},
			{name: "Accept-Language when lang is not offered", query: "?lang=it", accept: "de-DE,de;q=0.9", lang: "de", texts: set.Texts["de"]},
			{name: "site default", query: "?lang=ja", accept: "ko", lang: "en", texts: set.Texts["en"]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var cfg chathttp.SiteConfig
				hdr := []string{}
				if tt.accept != "" {
					hdr = []string{"Accept-Language", tt.accept}
				}
				if code := do(t, http.MethodGet, n.widgetURL(e, "/config"+tt.query), "", nil, &cfg, hdr...); code != http.StatusOK {
					t.Fatalf("config = %d", code)
				}
				if cfg.Language != tt.lang || !reflect.DeepEqual(cfg.Texts, tt.texts) {
					t.Errorf("config language %s texts %v, want %s %v", cfg.Language, cfg.Texts, tt.lang, tt.texts)
				}
				if !reflect.DeepEqual(cfg.Languages, []string{"en", "de"}) {
					t.Errorf("languages = %q, want [en de]", cfg.Languages)
				}
			})
		}
	})
}

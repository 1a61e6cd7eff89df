package chat

import (
	"errors"
	"testing"
	"time"
)

func TestBusinessHours(t *testing.T) {
	h := &BusinessHours{Timezone: "Europe/Berlin", Days: map[string][]string{"mon": {"09:00-12:00", "13:00-17:30"}, "sat": {"10:00-14:00"}}}
	if err := h.validate(); err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"monday morning", time.Date(2026, 1, 5, 9, 0, 0, 0, berlin), true},
		{"monday lunch", time.Date(2026, 1, 5, 12, 30, 0, 0, berlin), false},
		{"monday closing minute", time.Date(2026, 1, 5, 17, 30, 0, 0, berlin), false},
		{"monday before close", time.Date(2026, 1, 5, 17, 29, 0, 0, berlin), true},
		{"tuesday", time.Date(2026, 1, 6, 10, 0, 0, 0, berlin), false},
		{"saturday", time.Date(2026, 1, 10, 11, 0, 0, 0, berlin), true},
		{"monday 08:30 UTC is 09:30 in Berlin", time.Date(2026, 1, 5, 8, 30, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.OpenAt(tt.at); got != tt.want {
				t.Errorf("OpenAt(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
	var always *BusinessHours
	if !always.OpenAt(time.Now()) {
		t.Error("no business hours must mean always open")
	}
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Settings)
		field string
	}{
		{"defaults", func(*Settings) {}, ""},
		{"cookie mode", func(s *Settings) { s.CookieMode = "forever" }, "cookie_mode"},
		{"language", func(s *Settings) { s.DefaultLanguage = "<de>" }, "default_language"},
		{"text key", func(s *Settings) { s.Texts = map[string]map[string]string{"de": {"Bad Key": "x"}} }, "texts"},
		{"color", func(s *Settings) { s.Appearance.Color = "red;background:url(x)" }, "appearance.color"},
		{"time zone", func(s *Settings) { s.BusinessHours = &BusinessHours{Timezone: "Mars/Olympus"} }, "business_hours.timezone"},
		{"interval", func(s *Settings) {
			s.BusinessHours = &BusinessHours{Timezone: "UTC", Days: map[string][]string{"mon": {"17:00-09:00"}}}
		}, "business_hours.days"},
		{"question id", func(s *Settings) { s.Prechat.Questions = []Question{{ID: "Bad Id", Label: "x"}} }, "prechat.questions"},
		{"file size", func(s *Settings) { s.FileMaxBytes = 1 << 30 }, "file_max_bytes"},
		{"sensitive param", func(s *Settings) { s.SensitiveParams = []string{"a b"} }, "sensitive_params"},
		{"queue timeout", func(s *Settings) { s.QueueTimeoutSeconds = 1 }, "queue_timeout_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			tt.edit(&s)
			err := s.Validate()
			var inv *InvalidError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate = %v, want nil", err)
			case tt.field != "" && (!errors.As(err, &inv) || inv.Field != tt.field):
				t.Fatalf("Validate = %v, want an error on %s", err, tt.field)
			}
		})
	}
	d := DefaultSettings()
	if d.FileTransfer || d.TranscriptEmail || d.CookieMode != "persistent" {
		t.Errorf("defaults = files %v, transcript e-mail %v, cookies %s; want off, off, persistent", d.FileTransfer, d.TranscriptEmail, d.CookieMode)
	}
	s := DefaultSettings()
	s.Texts = map[string]map[string]string{"de": {"title": "Chat mit uns"}}
	texts, lang := s.TextsFor("de-CH")
	if _, english := texts["send"]; lang != "de" || texts["title"] != "Chat mit uns" || english {
		t.Errorf("TextsFor(de-CH) = %s %v, want the German title only (the widget has its own German wording)", lang, texts)
	}
}

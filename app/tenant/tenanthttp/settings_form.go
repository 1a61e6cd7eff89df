package tenanthttp

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/tenant"
)

// settingsForm is a site's widget settings form as typed, so a form with an error is shown again
// as it was sent. settings turns it into chat.Settings; the chat service checks the rest.
type settingsForm struct {
	Cookie, Language string
	// Texts are the site's own texts, one language per entry, "key = text" per line.
	Texts                            []textsForm
	Color, Position, Launcher        string
	HoursOn                          bool
	Timezone                         string
	Days                             []dayForm
	Prechat, AskName, RequireName    bool
	AskEmail, RequireEmail, Consent  bool
	ConsentText                      string
	Questions                        []questionForm
	Postchat, FileTransfer, EmailOut bool
	FileMaxBytes, QueueTimeout       string
	SensitiveParams                  string
	DefaultDepartment                string
	// RateMessages, RateBurst and RateChats are the site's own rate limits; empty keeps the
	// installation's.
	RateMessages, RateBurst, RateChats string
}

type textsForm struct{ Lang, Body string }

type dayForm struct{ Key, Label, Spans string }

type questionForm struct {
	ID, Label, MaxLength string
	Required             bool
}

var dayLabels = map[string]string{"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
	"fri": "Friday", "sat": "Saturday", "sun": "Sunday"}

// settingsFormOf fills the form from stored settings, with one blank language and two blank
// questions to add.
func settingsFormOf(s chat.Settings) settingsForm {
	f := settingsForm{
		Cookie: s.CookieMode, Language: s.DefaultLanguage, Color: s.Appearance.Color, Position: s.Appearance.Position,
		Launcher: s.Appearance.LauncherLabel, Prechat: s.Prechat.Enabled, AskName: s.Prechat.AskName,
		RequireName: s.Prechat.RequireName, AskEmail: s.Prechat.AskEmail, RequireEmail: s.Prechat.RequireEmail,
		Consent: s.Prechat.ConsentRequired, ConsentText: s.Prechat.ConsentText, Postchat: s.PostchatEnabled,
		FileTransfer: s.FileTransfer, EmailOut: s.TranscriptEmail, FileMaxBytes: strconv.FormatInt(s.FileMaxBytes, 10),
		QueueTimeout: strconv.Itoa(s.QueueTimeoutSeconds), SensitiveParams: strings.Join(s.SensitiveParams, "\n"),
		DefaultDepartment: s.DefaultDepartmentID,
	}
	if r := s.RateLimits; r != nil {
		f.RateMessages, f.RateBurst, f.RateChats = countText(r.MessagesPerMinute), countText(r.MessageBurst), countText(r.ChatsPerHour)
	}
	langs := make([]string, 0, len(s.Texts))
	for l := range s.Texts {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		keys := make([]string, 0, len(s.Texts[l]))
		for k := range s.Texts[l] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s = %s\n", k, strings.ReplaceAll(s.Texts[l][k], "\n", " "))
		}
		f.Texts = append(f.Texts, textsForm{Lang: l, Body: b.String()})
	}
	f.Texts = append(f.Texts, textsForm{})
	var spans map[string][]string
	if s.BusinessHours != nil {
		f.HoursOn, f.Timezone, spans = true, s.BusinessHours.Timezone, s.BusinessHours.Days
	}
	for _, d := range tenant.Weekdays {
		f.Days = append(f.Days, dayForm{Key: d, Label: dayLabels[d], Spans: strings.Join(spans[d], ", ")})
	}
	for _, q := range s.Prechat.Questions {
		f.Questions = append(f.Questions, questionForm{ID: q.ID, Label: q.Label, Required: q.Required, MaxLength: strconv.Itoa(q.MaxLength)})
	}
	f.Questions = append(f.Questions, questionForm{}, questionForm{})
	return f
}

// readSettingsForm reads the posted form.
func readSettingsForm(c echo.Context) settingsForm {
	v, _ := c.FormParams()
	if v == nil {
		v = url.Values{}
	}
	on := func(k string) bool { return v.Get(k) == "on" }
	f := settingsForm{
		Cookie: v.Get("cookie_mode"), Language: v.Get("default_language"), Color: v.Get("color"), Position: v.Get("position"),
		Launcher: v.Get("launcher_label"), HoursOn: on("hours_enabled"), Timezone: v.Get("hours_timezone"),
		Prechat: on("prechat_enabled"), AskName: on("ask_name"), RequireName: on("require_name"), AskEmail: on("ask_email"),
		RequireEmail: on("require_email"), Consent: on("consent_required"), ConsentText: v.Get("consent_text"),
		Postchat: on("postchat_enabled"), FileTransfer: on("file_transfer"), EmailOut: on("transcript_email"),
		FileMaxBytes: v.Get("file_max_bytes"), QueueTimeout: v.Get("queue_timeout_seconds"),
		SensitiveParams: v.Get("sensitive_params"), DefaultDepartment: v.Get("default_department_id"),
		RateMessages: v.Get("rate_messages_per_minute"), RateBurst: v.Get("rate_message_burst"), RateChats: v.Get("rate_chats_per_hour"),
	}
	langs, bodies := v["texts_lang"], v["texts_body"]
	for i := range langs {
		t := textsForm{Lang: langs[i]}
		if i < len(bodies) {
			t.Body = bodies[i]
		}
		f.Texts = append(f.Texts, t)
	}
	for _, d := range tenant.Weekdays {
		f.Days = append(f.Days, dayForm{Key: d, Label: dayLabels[d], Spans: v.Get("hours_" + d)})
	}
	ids, labels, req, max := v["question_id"], v["question_label"], v["question_required"], v["question_max_length"]
	at := func(s []string, i int) string {
		if i < len(s) {
			return s[i]
		}
		return ""
	}
	for i := range ids {
		f.Questions = append(f.Questions, questionForm{ID: ids[i], Label: at(labels, i), Required: at(req, i) == "yes", MaxLength: at(max, i)})
	}
	return f
}

// invalidField is a form value that cannot be read, as the service's own input errors read.
func invalidField(field, msg string) error {
	return api.ErrInvalidRequest.WithField(field).WithMessage(msg)
}

// settings reads the form into chat.Settings; a value that is not even of the right kind (a
// number, a "key = text" line) is an *api.Error naming its field.
func (f settingsForm) settings() (chat.Settings, error) {
	s := chat.Settings{
		CookieMode: f.Cookie, DefaultLanguage: strings.TrimSpace(f.Language), Texts: map[string]map[string]string{},
		Appearance: chat.Appearance{Color: f.Color, Position: f.Position, LauncherLabel: f.Launcher},
		Prechat: chat.Prechat{Enabled: f.Prechat, AskName: f.AskName, RequireName: f.RequireName, AskEmail: f.AskEmail,
			RequireEmail: f.RequireEmail, ConsentRequired: f.Consent, ConsentText: f.ConsentText, Questions: []chat.Question{}},
		PostchatEnabled: f.Postchat, FileTransfer: f.FileTransfer, TranscriptEmail: f.EmailOut,
		SensitiveParams:     strings.FieldsFunc(f.SensitiveParams, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }),
		DefaultDepartmentID: f.DefaultDepartment,
	}
	if s.SensitiveParams == nil {
		s.SensitiveParams = []string{}
	}
	var err error
	if s.FileMaxBytes, err = strconv.ParseInt(strings.TrimSpace(f.FileMaxBytes), 10, 64); err != nil {
		return s, invalidField("file_max_bytes", "The file size limit is a number of bytes.")
	}
	if s.QueueTimeoutSeconds, err = strconv.Atoi(strings.TrimSpace(f.QueueTimeout)); err != nil {
		return s, invalidField("queue_timeout_seconds", "The queue timeout is a number of seconds.")
	}
	var rl chat.RateLimits
	for _, r := range []struct {
		field, value string
		to           *int
	}{
		{"rate_limits.messages_per_minute", f.RateMessages, &rl.MessagesPerMinute},
		{"rate_limits.message_burst", f.RateBurst, &rl.MessageBurst},
		{"rate_limits.chats_per_hour", f.RateChats, &rl.ChatsPerHour},
	} {
		if v := strings.TrimSpace(r.value); v != "" {
			if *r.to, err = strconv.Atoi(v); err != nil {
				return s, invalidField(r.field, "A rate limit is a whole number; leave it empty for the installation's limit.")
			}
		}
	}
	if rl != (chat.RateLimits{}) {
		s.RateLimits = &rl
	}
	for _, t := range f.Texts {
		lang := strings.TrimSpace(t.Lang)
		if lang == "" && strings.TrimSpace(t.Body) == "" {
			continue
		}
		if lang == "" {
			return s, invalidField("texts", "Name the language of each set of texts (a BCP 47 tag such as en or de-CH).")
		}
		byKey := map[string]string{}
		for _, line := range strings.Split(t.Body, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			k, text, ok := strings.Cut(line, "=")
			if !ok {
				return s, invalidField("texts", "Write one text per line as key = text.")
			}
			byKey[strings.TrimSpace(k)] = strings.TrimSpace(text)
		}
		if len(byKey) == 0 {
			continue // a language whose texts were all removed
		}
		if _, dup := s.Texts[lang]; dup {
			return s, invalidField("texts", "Each language has one set of texts.")
		}
		s.Texts[lang] = byKey
	}
	if f.HoursOn {
		h := &chat.BusinessHours{Timezone: strings.TrimSpace(f.Timezone), Days: map[string][]string{}}
		for _, d := range f.Days {
			for _, sp := range strings.Split(d.Spans, ",") {
				if sp = strings.ReplaceAll(strings.TrimSpace(sp), " ", ""); sp != "" {
					h.Days[d.Key] = append(h.Days[d.Key], sp)
				}
			}
		}
		s.BusinessHours = h
	}
	for _, q := range f.Questions {
		if strings.TrimSpace(q.ID) == "" && strings.TrimSpace(q.Label) == "" {
			continue
		}
		max := 0
		if m := strings.TrimSpace(q.MaxLength); m != "" {
			if max, err = strconv.Atoi(m); err != nil {
				return s, invalidField("prechat.questions", "A question's maximum length is a number of characters.")
			}
		}
		s.Prechat.Questions = append(s.Prechat.Questions, chat.Question{ID: strings.TrimSpace(q.ID), Label: q.Label, Required: q.Required, MaxLength: max})
	}
	return s, nil
}

// countText is a rate limit in its form field: empty for 0 (the installation's).
func countText(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// principalOf returns the request's user (the settings' audit actor).
func principalOf(c echo.Context) *identity.Principal { return api.PrincipalOf(c) }

// originOf is where a settings change comes from, for its audit record.
func originOf(c echo.Context) chat.Origin {
	return chat.Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}
}

package chat

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/mode"
	"github.com/parleyhq/parley/compliance/pan"
)

// DefaultFileMaxBytes is a site's file size limit unless it sets another.
const DefaultFileMaxBytes = 1 << 20

// MaxFileBytes is the largest file size limit a site may set: the hard cap the upload routes
// declare as their body limit (larger bodies are refused with 413 before they are read).
const MaxFileBytes = 25 << 20

// Settings are a site's widget and chat settings. Validate decides per field what a card number
// in it means: language tags, text keys, pre-chat question ids and sensitive parameter names are
// identifiers and refuse it (CardNumberError); texts, the consent text, question labels and the
// launcher label are free text and keep only its last four digits (pan.MaskLast4).
type Settings struct {
	CookieMode      string                       `json:"cookie_mode"`
	DefaultLanguage string                       `json:"default_language"`
	Texts           map[string]map[string]string `json:"texts"`
	Appearance      Appearance                   `json:"appearance"`
	BusinessHours   *BusinessHours               `json:"business_hours"`
	Prechat         Prechat                      `json:"prechat"`
	PostchatEnabled bool                         `json:"postchat_enabled"`
	FileTransfer    bool                         `json:"file_transfer"`
	FileMaxBytes    int64                        `json:"file_max_bytes"`
	// TranscriptEmail lets visitors have the transcript e-mailed; off by default because it moves
	// chat content out of the gateway. The evidence report shows it.
	TranscriptEmail     bool     `json:"transcript_email"`
	SensitiveParams     []string `json:"sensitive_params"`
	DefaultDepartmentID string   `json:"default_department_id"`
	QueueTimeoutSeconds int      `json:"queue_timeout_seconds"`
	// RateLimits tighten the installation's visitor limits for this site; nil keeps them.
	RateLimits *RateLimits `json:"rate_limits"`
}

// Appearance is how the widget looks.
type Appearance struct {
	Color         string `json:"color,omitempty"`
	Position      string `json:"position,omitempty"`
	LauncherLabel string `json:"launcher_label,omitempty"`
}

// Prechat is the pre-chat survey form.
type Prechat struct {
	Enabled         bool       `json:"enabled"`
	AskName         bool       `json:"ask_name"`
	RequireName     bool       `json:"require_name"`
	AskEmail        bool       `json:"ask_email"`
	RequireEmail    bool       `json:"require_email"`
	ConsentRequired bool       `json:"consent_required"`
	ConsentText     string     `json:"consent_text,omitempty"`
	Questions       []Question `json:"questions"`
}

// Question is a custom pre-chat question.
type Question struct {
	ID        string `json:"id"`
	Label     string `json:"label"`
	Required  bool   `json:"required"`
	MaxLength int    `json:"max_length"`
}

// BusinessHours are when chats are taken; nil means always.
type BusinessHours struct {
	Timezone string `json:"timezone"`
	// Days maps "mon".."sun" to opening intervals "HH:MM-HH:MM".
	Days map[string][]string `json:"days"`
}

// DefaultSettings are a site's settings before an admin changes them: persistent visitor id,
// no file transfer, no transcript e-mail, a name-and-consent pre-chat form and a rating survey.
func DefaultSettings() Settings {
	return Settings{
		CookieMode: visitor.CookiePersistent, DefaultLanguage: "en", Texts: map[string]map[string]string{},
		Appearance:      Appearance{Color: "#1d4ed8", Position: "right"},
		Prechat:         Prechat{Enabled: true, AskName: true, AskEmail: true, Questions: []Question{}},
		PostchatEnabled: true, FileMaxBytes: DefaultFileMaxBytes, QueueTimeoutSeconds: 300, SensitiveParams: []string{},
	}
}

// fillEmpty makes the settings' absent lists and maps empty ones, so they read (and answer in
// JSON) as [] and {}, never null.
func (s *Settings) fillEmpty() {
	if s.Texts == nil {
		s.Texts = map[string]map[string]string{}
	}
	if s.SensitiveParams == nil {
		s.SensitiveParams = []string{}
	}
	if s.Prechat.Questions == nil {
		s.Prechat.Questions = []Question{}
	}
	if s.BusinessHours != nil && s.BusinessHours.Days == nil {
		s.BusinessHours.Days = map[string][]string{}
	}
}

var (
	colorHex  = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	textKey   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,59}$`)
	questID   = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)
	hoursSpan = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$`)
	paramName = regexp.MustCompile(`^[A-Za-z0-9_.\-\[\]]{1,64}$`)
)

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// settingsLanguage is visitor.ParseLanguage for a settings field: the canonical BCP 47 tag, a
// CardNumberError when the value holds a card number, an InvalidError naming field otherwise.
func settingsLanguage(field, tag string) (string, error) {
	out, err := visitor.ParseLanguage(tag)
	switch {
	case errors.Is(err, visitor.ErrLanguageCardNumber):
		return "", &CardNumberError{Field: field}
	case err != nil:
		return "", invalid(field, "Language tags are BCP 47 tags such as en or de-CH.")
	}
	return out, nil
}

// Validate checks and cleans settings in place.
func (s *Settings) Validate() error {
	switch s.CookieMode {
	case visitor.CookiePersistent, visitor.CookieSession, visitor.CookieNone:
	default:
		return invalid("cookie_mode", "Cookie mode must be persistent, session or none.")
	}
	lang, err := settingsLanguage("default_language", s.DefaultLanguage)
	if err != nil {
		return err
	}
	s.DefaultLanguage = lang
	if len(s.Texts) > 50 {
		return invalid("texts", "At most 50 languages.")
	}
	texts := make(map[string]map[string]string, len(s.Texts))
	for lang, byKey := range s.Texts {
		canon, err := settingsLanguage("texts", lang)
		if err != nil {
			return err
		}
		if _, dup := texts[canon]; dup {
			return invalid("texts", "Each language has one set of texts ("+canon+" is given twice).")
		}
		if len(byKey) > 60 {
			return invalid("texts", "At most 60 texts per language.")
		}
		for k, v := range byKey {
			if err := noCardNumber("texts", k); err != nil {
				return err
			}
			limit := 500
			if k == "consent_text" {
				limit = 1000 // as prechat.consent_text, which it translates
			}
			clean, err := sanitize.Optional(v, sanitize.Limits{MaxRunes: limit, MultiLine: true})
			if !textKey.MatchString(k) || err != nil {
				return invalid("texts", "Text keys are lower-case words (consent_text, question_ID for a pre-chat question); texts are at most 500 characters, the consent text 1000.")
			}
			byKey[k] = pan.MaskLast4(clean)
		}
		texts[canon] = byKey
	}
	s.Texts = texts
	if s.Appearance.Color != "" && !colorHex.MatchString(s.Appearance.Color) {
		return invalid("appearance.color", "The color must be #RRGGBB.")
	}
	if p := s.Appearance.Position; p != "" && p != "left" && p != "right" {
		return invalid("appearance.position", "The position must be left or right.")
	}
	label, err := sanitize.Optional(s.Appearance.LauncherLabel, sanitize.Limits{MaxRunes: 40})
	if err != nil {
		return invalid("appearance.launcher_label", "The launcher label is at most 40 characters.")
	}
	s.Appearance.LauncherLabel = pan.MaskLast4(label)
	if err := s.BusinessHours.validate(); err != nil {
		return err
	}
	if err := s.Prechat.validate(); err != nil {
		return err
	}
	if s.FileMaxBytes <= 0 || s.FileMaxBytes > MaxFileBytes {
		return invalid("file_max_bytes", "The file size limit must be 1 byte to 25 MiB.")
	}
	if len(s.SensitiveParams) > 100 {
		return invalid("sensitive_params", "At most 100 parameters.")
	}
	for _, p := range s.SensitiveParams {
		if err := noCardNumber("sensitive_params", p); err != nil {
			return err
		}
		if !paramName.MatchString(p) {
			return invalid("sensitive_params", "Parameter names are letters, digits and . _ - [ ].")
		}
	}
	if s.QueueTimeoutSeconds < 30 || s.QueueTimeoutSeconds > 86400 {
		return invalid("queue_timeout_seconds", "The queue timeout must be 30 seconds to one day.")
	}
	if s.RateLimits.none() {
		s.RateLimits = nil
	}
	s.fillEmpty()
	return nil
}

func (b *BusinessHours) validate() error {
	if b == nil {
		return nil
	}
	if _, err := time.LoadLocation(b.Timezone); err != nil || b.Timezone == "" {
		return invalid("business_hours.timezone", "Name a time zone such as Europe/Berlin.")
	}
	for day, spans := range b.Days {
		if _, ok := weekdays[day]; !ok {
			return invalid("business_hours.days", "Days are mon, tue, wed, thu, fri, sat and sun.")
		}
		if len(spans) > 6 {
			return invalid("business_hours.days", "At most 6 intervals per day.")
		}
		for _, sp := range spans {
			if !hoursSpan.MatchString(sp) || sp[:5] >= sp[6:] {
				return invalid("business_hours.days", "Intervals are HH:MM-HH:MM with the start before the end.")
			}
		}
	}
	return nil
}

// OpenAt reports whether the business hours include t; nil hours are always open.
func (b *BusinessHours) OpenAt(t time.Time) bool {
	if b == nil {
		return true
	}
	loc, err := time.LoadLocation(b.Timezone)
	if err != nil {
		return false
	}
	lt := t.In(loc)
	hm := fmt.Sprintf("%02d:%02d", lt.Hour(), lt.Minute())
	for day, spans := range b.Days {
		if weekdays[day] != lt.Weekday() {
			continue
		}
		for _, sp := range spans {
			if hm >= sp[:5] && hm < sp[6:] {
				return true
			}
		}
	}
	return false
}

func (p *Prechat) validate() error {
	text, err := sanitize.Optional(p.ConsentText, sanitize.Limits{MaxRunes: 1000, MultiLine: true})
	if err != nil {
		return invalid("prechat.consent_text", "The consent text is at most 1000 characters.")
	}
	p.ConsentText = pan.MaskLast4(text)
	if len(p.Questions) > 20 {
		return invalid("prechat.questions", "At most 20 questions.")
	}
	seen := map[string]bool{}
	for i := range p.Questions {
		q := &p.Questions[i]
		if err := noCardNumber("prechat.questions", q.ID); err != nil {
			return err
		}
		label, err := sanitize.Text(q.Label, sanitize.Limits{MaxRunes: 200})
		if !questID.MatchString(q.ID) || seen[q.ID] || err != nil {
			return invalid("prechat.questions", "Each question needs a unique id (a-z, 0-9, _) and a label of at most 200 characters.")
		}
		seen[q.ID] = true
		q.Label = pan.MaskLast4(label)
		if q.MaxLength <= 0 || q.MaxLength > sanitize.Answer.MaxRunes {
			q.MaxLength = sanitize.Answer.MaxRunes
		}
	}
	if p.Questions == nil {
		p.Questions = []Question{}
	}
	return nil
}

// Languages returns the languages the site's widget speaks: the default language first, then
// every other language it has texts for, in order.
func (s Settings) Languages() []string {
	var others []string
	for l := range s.Texts {
		if !strings.EqualFold(l, s.DefaultLanguage) {
			others = append(others, l)
		}
	}
	sort.Strings(others)
	return append([]string{s.DefaultLanguage}, others...)
}

// TextsFor chooses the widget's language from the visitor's preferences (most wanted first, as
// visitor.Languages lists them) among the site's Languages, the site's default when none
// matches, and returns the site's own texts in it: those of a regional variant (de-CH) over
// those of its primary language (de). Keys the site leaves unset are absent; the widget has its
// own wording for them (web/widget/v1/texts.js), so no text of another language is mixed in.
func (s Settings) TextsFor(prefs ...string) (map[string]string, string) {
	chosen := visitor.Negotiate(prefs, s.Languages(), s.DefaultLanguage)
	out := map[string]string{}
	layers := []string{chosen}
	if primary, _, regional := strings.Cut(chosen, "-"); regional {
		layers = []string{primary, chosen}
	}
	for _, lang := range layers {
		for l, texts := range s.Texts {
			if strings.EqualFold(l, lang) {
				for k, v := range texts {
					out[k] = v
				}
			}
		}
	}
	return out, chosen
}

// SiteSettings returns a site's settings (the defaults when none are stored).
func (s *Service) SiteSettings(ctx context.Context, siteID string) (Settings, error) {
	return s.store.settings(ctx, siteID)
}

// SetSiteSettings validates and stores a site's settings (audited as site.update, naming the
// settings that move data out of the gateway).
func (s *Service) SetSiteSettings(ctx context.Context, p *identity.Principal, site tenant.Site, in Settings, o Origin) error {
	if err := in.Validate(); err != nil {
		return err
	}
	if err := in.RateLimits.validate(s.InstallationRateLimits()); err != nil {
		return err
	}
	if in.DefaultDepartmentID != "" {
		if _, err := s.tenants.Department(ctx, site.TenantID, in.DefaultDepartmentID); err != nil {
			return invalid("default_department_id", "No such department.")
		}
	}
	if err := s.complianceGuard(ctx, p, site, in, o); err != nil {
		return err
	}
	ev := s.auditEvent(site.TenantID, userActor(p.UserID), audit.ActionSiteUpdate, site.ID, o, map[string]string{
		"change": "chat_settings", "visitor_id_mode": in.CookieMode, "file_transfer": boolText(in.FileTransfer),
		"transcript_email": boolText(in.TranscriptEmail), "rate_limits": in.RateLimits.String(),
	})
	ev.Target = audit.Target{Kind: "site", ID: site.ID}
	if err := s.store.saveSettings(ctx, site, in, ev); err != nil {
		return err
	}
	// This node applies the new limits at once; the others when their copy expires.
	s.cacheSiteLimits(site.ID, in.RateLimits)
	if s.compliance != nil {
		s.compliance.Changed(site.TenantID)
	}
	return nil
}

// complianceGuard refuses site settings that would break a control of the organisation's
// compliance mode (transcript e-mail on), auditing the refusal; a mode that cannot be read
// refuses the change (fail closed).
func (s *Service) complianceGuard(ctx context.Context, p *identity.Principal, site tenant.Site, in Settings, o Origin) error {
	if s.compliance == nil {
		return nil
	}
	m, err := s.compliance.Mode(ctx, site.TenantID)
	if err != nil {
		return fmt.Errorf("read the compliance mode: %w", err)
	}
	err = m.TranscriptEmail(site.Name, in.TranscriptEmail)
	var ref *mode.Refusal
	if !errors.As(err, &ref) {
		return err
	}
	ev := s.auditEvent(site.TenantID, userActor(p.UserID), audit.ActionComplianceRefused, site.ID, o, map[string]string{
		"setting": string(ref.Setting), "controls": strings.Join(ref.Controls, ", "), "mode": m.String(),
	})
	ev.Target, ev.Outcome = audit.Target{Kind: "site", ID: site.ID}, audit.Failure
	if aerr := s.store.record(ctx, ev); aerr != nil {
		return aerr
	}
	return err
}

func boolText(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

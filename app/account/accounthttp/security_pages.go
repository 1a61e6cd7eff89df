package accounthttp

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/policy/password"
)

// passwordProfiles are the profiles the password form offers.
var passwordProfiles = []string{string(password.ProfilePCIDSS4), string(password.ProfileNIST80063B), string(password.ProfileCustom)}

// allowlistForm is one IP allowlist as the security page shows and edits it.
type allowlistForm struct {
	// Role is empty for the organisation-wide list.
	Role string
	// Key names the form in field errors and element ids.
	Key       string
	Entries   string
	UpdatedAt *time.Time
	UpdatedBy string
	// Updater names who made the last change, when they are still a user of the tenant.
	Updater *account.Person
	// ConfirmSelfExclusion is set when the list as typed would shut out the caller's address:
	// the form then asks for confirmation.
	ConfirmSelfExclusion bool
}

// securityPage is what security.html renders.
type securityPage struct {
	CSRF, Notice string
	Settings     SettingsBody
	Profiles     []string
	Roles        []string
	MFARoles     map[string]bool
	// Lists are the organisation's allowlist, then one per role.
	Lists         []allowlistForm
	YourIP        string
	Failure       formFailure
	typedList     *allowlistForm
	settingsTyped func(*SettingsBody)
}

func (m *Module) securityPage(c echo.Context) error {
	return m.renderSecurity(c, http.StatusOK, securityPage{Notice: consoleNotices[c.QueryParam("notice")]})
}

// renderSecurity renders the security page: the stored settings, with what a refused form sent
// in place of the stored values of that form.
func (m *Module) renderSecurity(c echo.Context, status int, d securityPage) error {
	ctx := c.Request().Context()
	cur := current(c)
	var err error
	if d.Settings, err = m.settingsBody(c); err != nil {
		return classify(err)
	}
	if d.settingsTyped != nil {
		d.settingsTyped(&d.Settings)
	}
	if d.Roles, err = m.roleNames(ctx, cur.User.TenantID); err != nil {
		return err
	}
	d.MFARoles = map[string]bool{}
	for _, r := range d.Settings.MFA.RequiredRoles {
		d.MFARoles[r] = true
	}
	ls, err := m.Accounts.Allowlists(ctx, cur.User.TenantID)
	if err != nil {
		return classify(err)
	}
	var ids []string
	for _, l := range ls {
		ids = append(ids, l.UpdatedBy)
	}
	people, err := m.Accounts.Store.People(ctx, cur.User.TenantID, ids)
	if err != nil {
		return err
	}
	stored := map[string]allowlistForm{}
	for _, l := range ls {
		b := listBody(l)
		at := b.UpdatedAt
		f := allowlistForm{Role: l.Role, Entries: strings.Join(b.Entries, "\n"), UpdatedAt: &at, UpdatedBy: b.UpdatedBy}
		if p, ok := people[l.UpdatedBy]; ok {
			f.Updater = &p
		}
		stored[l.Role] = f
	}
	form := func(role string) allowlistForm {
		f := stored[role]
		f.Role, f.Key = role, listKey(role)
		if d.typedList != nil && d.typedList.Role == role {
			f.Entries, f.ConfirmSelfExclusion = d.typedList.Entries, d.typedList.ConfirmSelfExclusion
		}
		return f
	}
	d.Lists = []allowlistForm{form("")}
	for _, r := range d.Roles {
		d.Lists = append(d.Lists, form(r))
	}
	d.CSRF, d.Profiles, d.YourIP = account.CSRFToken(cur.Token), passwordProfiles, c.RealIP()
	return m.Pages.Render(c, status, "security.html", d)
}

// listKey names an allowlist's form: "allowlist" for the organisation's, "allowlist_ROLE" for a
// role's.
func listKey(role string) string {
	if role == "" {
		return "allowlist"
	}
	return "allowlist_" + role
}

// formReader reads a settings form's fields into a policy request; the first unreadable number
// is the form's failure.
type formReader struct {
	c    echo.Context
	form string
	fail *formFailure
}

// int reads a whole number; an absent field is nil (the setting stays).
func (r *formReader) int(field string) *int {
	v := strings.TrimSpace(r.c.FormValue(field))
	if v == "" {
		if _, sent := r.c.Request().PostForm[field]; sent && r.fail == nil {
			f := fieldFailure(r.form, field, "Enter a whole number.")
			r.fail = &f
		}
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || len(v) > 12 {
		if r.fail == nil {
			f := fieldFailure(r.form, field, "Enter a whole number.")
			r.fail = &f
		}
		return nil
	}
	return &n
}

// bool reads a checkbox: ticked or not.
func (r *formReader) bool(field string) *bool {
	b := r.c.FormValue(field) != ""
	return &b
}

// settingsForm runs one of the settings forms: read, apply through the same code as the API,
// then redirect with notice, or show the page again with what was typed and the field errors.
func (m *Module) settingsForm(c echo.Context, form, notice string, read func(r *formReader) (apply func() error, typed func(*SettingsBody))) error {
	if _, err := c.FormParams(); err != nil {
		return api.ErrInvalidRequest
	}
	r := &formReader{c: c, form: form}
	apply, typed := read(r)
	if r.fail != nil {
		return m.renderSecurity(c, r.fail.Status, securityPage{Failure: *r.fail})
	}
	if err := apply(); err != nil {
		ff, err := failure(form, err)
		if err != nil {
			return err
		}
		return m.renderSecurity(c, ff.Status, securityPage{Failure: ff, settingsTyped: typed})
	}
	return c.Redirect(http.StatusSeeOther, "/security?notice="+notice)
}

// passwordSubmit changes the password policy. A form with only a profile starts again from that
// profile's settings; the full form sets every setting, the profile's floor still applying.
func (m *Module) passwordPolicySubmit(c echo.Context) error {
	return m.settingsForm(c, "password", "password_saved", func(r *formReader) (func() error, func(*SettingsBody)) {
		var req passwordPolicyRequest
		if p := c.FormValue("profile"); p != "" {
			req.Profile = &p
		}
		if c.FormValue("settings") != "" {
			req.MinLength, req.MinLengthWithMFA, req.MaxLength = r.int("min_length"), r.int("min_length_with_mfa"), r.int("max_length")
			req.RequireUpper, req.RequireLower = r.bool("require_upper"), r.bool("require_lower")
			req.RequireDigit, req.RequireSpecial = r.bool("require_digit"), r.bool("require_special")
			req.RequireLetterAndDigit, req.BanCommon, req.BanPersonal = r.bool("require_letter_and_digit"), r.bool("ban_common"), r.bool("ban_personal")
			req.ExpiryDays, req.ExpiryWaivedWithMFA = r.int("expiry_days"), r.bool("expiry_waived_with_mfa")
			req.MinAgeDays, req.HistoryDepth, req.MaxResetsPerDay = r.int("min_age_days"), r.int("history_depth"), r.int("max_resets_per_day")
		}
		return func() error { return m.setPasswordPolicy(c, req) }, func(b *SettingsBody) {
			ps := &b.Password
			if req.Profile != nil {
				ps.Profile = pan.MaskLast4(*req.Profile)
			}
			setInt(&ps.MinLength, req.MinLength)
			setInt(&ps.MinLengthWithMFA, req.MinLengthWithMFA)
			setInt(&ps.MaxLength, req.MaxLength)
			setBool(&ps.RequireUpper, req.RequireUpper)
			setBool(&ps.RequireLower, req.RequireLower)
			setBool(&ps.RequireDigit, req.RequireDigit)
			setBool(&ps.RequireSpecial, req.RequireSpecial)
			setBool(&ps.RequireLetterAndDigit, req.RequireLetterAndDigit)
			setBool(&ps.BanCommon, req.BanCommon)
			setBool(&ps.BanPersonal, req.BanPersonal)
			setInt(&ps.ExpiryDays, req.ExpiryDays)
			setBool(&ps.ExpiryWaivedWithMFA, req.ExpiryWaivedWithMFA)
			setInt(&ps.MinAgeDays, req.MinAgeDays)
			setInt(&ps.HistoryDepth, req.HistoryDepth)
			setInt(&ps.MaxResetsPerDay, req.MaxResetsPerDay)
		}
	})
}

func (m *Module) signInPolicySubmit(c echo.Context) error {
	return m.settingsForm(c, "signin", "signin_saved", func(r *formReader) (func() error, func(*SettingsBody)) {
		req := signInPolicyRequest{
			CaptchaAfter: r.int("captcha_after"), LockoutThreshold: r.int("lockout_threshold"),
			LockoutMinutes: r.int("lockout_minutes"), DisableAfter: r.int("disable_after"),
			IPWindowMinutes: r.int("ip_window_minutes"), IPCaptchaAfter: r.int("ip_captcha_after"),
			IPThrottleAfter: r.int("ip_throttle_after"),
		}
		return func() error { return m.setSignInPolicy(c, req) }, func(b *SettingsBody) {
			s := &b.SignIn
			setInt(&s.CaptchaAfter, req.CaptchaAfter)
			setInt(&s.LockoutThreshold, req.LockoutThreshold)
			setInt(&s.LockoutMinutes, req.LockoutMinutes)
			setInt(&s.DisableAfter, req.DisableAfter)
			setInt(&s.IPWindowMinutes, req.IPWindowMinutes)
			setInt(&s.IPCaptchaAfter, req.IPCaptchaAfter)
			setInt(&s.IPThrottleAfter, req.IPThrottleAfter)
		}
	})
}

func (m *Module) sessionPolicySubmit(c echo.Context) error {
	return m.settingsForm(c, "session", "session_saved", func(r *formReader) (func() error, func(*SettingsBody)) {
		req := sessionPolicyRequest{
			IdleTimeoutMinutes: r.int("idle_timeout_minutes"), AbsoluteTimeoutMinutes: r.int("absolute_timeout_minutes"),
			InactiveAfterDays: r.int("inactive_after_days"), PCI: r.bool("pci"),
		}
		return func() error { return m.setSessionPolicy(c, req) }, func(b *SettingsBody) {
			s := &b.Session
			setInt(&s.IdleTimeoutMinutes, req.IdleTimeoutMinutes)
			setInt(&s.AbsoluteTimeoutMinutes, req.AbsoluteTimeoutMinutes)
			setInt(&s.InactiveAfterDays, req.InactiveAfterDays)
			setBool(&s.PCI, req.PCI)
		}
	})
}

func (m *Module) mfaPolicySubmit(c echo.Context) error {
	return m.settingsForm(c, "mfa", "mfa_saved", func(r *formReader) (func() error, func(*SettingsBody)) {
		roles := c.Request().PostForm["required_roles"]
		if roles == nil {
			roles = []string{}
		}
		req := mfaPolicyRequest{Required: r.bool("required"), RequiredRoles: &roles, GraceSignIns: r.int("grace_sign_ins")}
		return func() error { return m.setMFAPolicy(c, req) }, func(b *SettingsBody) {
			setBool(&b.MFA.Required, req.Required)
			setInt(&b.MFA.GraceSignIns, req.GraceSignIns)
			b.MFA.RequiredRoles = nil
			for _, r := range roles {
				b.MFA.RequiredRoles = append(b.MFA.RequiredRoles, pan.MaskLast4(r))
			}
		}
	})
}

// allowlistEntries splits a list as typed, one entry per line (commas also separate).
func allowlistEntries(s string) []string {
	out := []string{}
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if e := strings.TrimSpace(line); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// allowlistSubmit replaces the organisation's list (role "") or a role's. A list that would shut
// out the caller's own address is refused with a field error and the form asks to confirm.
func (m *Module) allowlistSubmit(c echo.Context, role string) error {
	key := listKey(role)
	typed := allowlistForm{Role: role, Entries: pan.MaskLast4(c.FormValue("entries"))}
	req := allowlistRequest{Entries: allowlistEntries(c.FormValue("entries")), ConfirmSelfExclusion: c.FormValue("confirm_self_exclusion") != ""}
	l, err := m.setAllowlist(c, role, req)
	if err == nil {
		notice := "allowlist_saved"
		if l == nil || l.Empty() {
			notice = "allowlist_removed"
		}
		return c.Redirect(http.StatusSeeOther, "/security?notice="+notice+"#"+url.PathEscape(key))
	}
	excludesSelf := errors.Is(err, errExcludesSelf)
	ff, err := failure(key, err)
	if err != nil {
		return err
	}
	if excludesSelf {
		// The API's refusal, in the console's words: the same address, a box instead of a flag.
		msg := "This list would shut out your own address " + c.RealIP() + ": you could not sign in again from here. Tick \u201cSave anyway\u201d to save it all the same."
		ff.Errors[key+".entries"], ff.Errors[key], ff.Message = msg, msg, msg
		typed.ConfirmSelfExclusion = true
	}
	return m.renderSecurity(c, ff.Status, securityPage{Failure: ff, typedList: &typed})
}

func (m *Module) tenantAllowlistSubmit(c echo.Context) error { return m.allowlistSubmit(c, "") }

func (m *Module) roleAllowlistSubmit(c echo.Context) error {
	role := c.Param("role")
	if role == "" || len(role) > 64 {
		return api.ErrNotFound
	}
	return m.allowlistSubmit(c, role)
}

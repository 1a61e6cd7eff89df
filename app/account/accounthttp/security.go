package accounthttp

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/policy/allowlist"
	"github.com/parleyhq/parley/policy/password"
)

// SettingsBody is a tenant's security settings as the API shows them.
type SettingsBody struct {
	Password                account.PasswordSettings `json:"password"`
	SignIn                  account.SignInSettings   `json:"signin"`
	Session                 account.SessionSettings  `json:"session"`
	MFA                     account.MFAPolicy        `json:"mfa"`
	AllowlistSuspendedUntil *time.Time               `json:"allowlist_suspended_until"`
}

func (m *Module) settingsBody(c echo.Context) (SettingsBody, error) {
	st, err := m.Accounts.Settings(c.Request().Context(), current(c).User.TenantID)
	if err != nil {
		return SettingsBody{}, err
	}
	b := SettingsBody{
		Password: account.PasswordSettingsFrom(st.Password), SignIn: account.SignInSettingsFrom(st.SignIn),
		Session: account.SessionSettingsFrom(st.Session), MFA: st.MFA,
	}
	if b.MFA.RequiredRoles == nil {
		b.MFA.RequiredRoles = []string{}
	}
	if !st.AllowlistSuspendedUntil.IsZero() && m.now().Before(st.AllowlistSuspendedUntil) {
		t := st.AllowlistSuspendedUntil
		b.AllowlistSuspendedUntil = &t
	}
	return b, nil
}

func (m *Module) getSettings(c echo.Context) error {
	b, err := m.settingsBody(c)
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, b)
}

func (m *Module) settingsChanged(c echo.Context, err error) error {
	if err != nil {
		return classify(err)
	}
	return m.getSettings(c)
}

// passwordPolicyRequest changes the password policy. Profile, when given, starts from that
// profile's settings; otherwise from the current policy. Every other field given replaces the
// starting value.
type passwordPolicyRequest struct {
	Profile               *string `json:"profile"`
	MinLength             *int    `json:"min_length"`
	MinLengthWithMFA      *int    `json:"min_length_with_mfa"`
	MaxLength             *int    `json:"max_length"`
	RequireUpper          *bool   `json:"require_upper"`
	RequireLower          *bool   `json:"require_lower"`
	RequireDigit          *bool   `json:"require_digit"`
	RequireSpecial        *bool   `json:"require_special"`
	RequireLetterAndDigit *bool   `json:"require_letter_and_digit"`
	BanCommon             *bool   `json:"ban_common"`
	BanPersonal           *bool   `json:"ban_personal"`
	ExpiryDays            *int    `json:"expiry_days"`
	ExpiryWaivedWithMFA   *bool   `json:"expiry_waived_with_mfa"`
	MinAgeDays            *int    `json:"min_age_days"`
	HistoryDepth          *int    `json:"history_depth"`
	MaxResetsPerDay       *int    `json:"max_resets_per_day"`
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

func (m *Module) putPasswordPolicy(c echo.Context) error {
	var req passwordPolicyRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	return m.settingsChanged(c, m.setPasswordPolicy(c, req))
}

// setPasswordPolicy applies a password policy change, for the API and the console form alike.
func (m *Module) setPasswordPolicy(c echo.Context, req passwordPolicyRequest) error {
	st, err := m.Accounts.Settings(c.Request().Context(), current(c).User.TenantID)
	if err != nil {
		return classify(err)
	}
	ps := account.PasswordSettingsFrom(st.Password)
	if req.Profile != nil {
		base, err := password.ForProfile(password.Profile(*req.Profile))
		if errors.Is(err, password.ErrUnknownProfile) {
			return settingsError([]account.Problem{{Field: "profile", Message: fmt.Sprintf(
				"Choose one of %s, %s or %s.", password.ProfilePCIDSS4, password.ProfileNIST80063B, password.ProfileCustom)}})
		}
		ps = account.PasswordSettingsFrom(base)
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
	// The policy checks every bound (a huge count of days saturates rather than wraps).
	return m.Accounts.SetPasswordPolicy(c.Request().Context(), actor(c), ps.Policy())
}

type signInPolicyRequest struct {
	CaptchaAfter     *int `json:"captcha_after"`
	LockoutThreshold *int `json:"lockout_threshold"`
	LockoutMinutes   *int `json:"lockout_minutes"`
	DisableAfter     *int `json:"disable_after"`
	IPWindowMinutes  *int `json:"ip_window_minutes"`
	IPCaptchaAfter   *int `json:"ip_captcha_after"`
	IPThrottleAfter  *int `json:"ip_throttle_after"`
}

func (m *Module) putSignInPolicy(c echo.Context) error {
	var req signInPolicyRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	return m.settingsChanged(c, m.setSignInPolicy(c, req))
}

// setSignInPolicy applies a sign-in policy change, for the API and the console form alike.
func (m *Module) setSignInPolicy(c echo.Context, req signInPolicyRequest) error {
	st, err := m.Accounts.Settings(c.Request().Context(), current(c).User.TenantID)
	if err != nil {
		return classify(err)
	}
	ss := account.SignInSettingsFrom(st.SignIn)
	setInt(&ss.CaptchaAfter, req.CaptchaAfter)
	setInt(&ss.LockoutThreshold, req.LockoutThreshold)
	setInt(&ss.LockoutMinutes, req.LockoutMinutes)
	setInt(&ss.DisableAfter, req.DisableAfter)
	setInt(&ss.IPWindowMinutes, req.IPWindowMinutes)
	setInt(&ss.IPCaptchaAfter, req.IPCaptchaAfter)
	setInt(&ss.IPThrottleAfter, req.IPThrottleAfter)
	return m.Accounts.SetSignInPolicy(c.Request().Context(), actor(c), ss.Policy())
}

type sessionPolicyRequest struct {
	IdleTimeoutMinutes     *int  `json:"idle_timeout_minutes"`
	AbsoluteTimeoutMinutes *int  `json:"absolute_timeout_minutes"`
	InactiveAfterDays      *int  `json:"inactive_after_days"`
	PCI                    *bool `json:"pci"`
}

func (m *Module) putSessionPolicy(c echo.Context) error {
	var req sessionPolicyRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	return m.settingsChanged(c, m.setSessionPolicy(c, req))
}

// setSessionPolicy applies a session policy change, for the API and the console form alike.
func (m *Module) setSessionPolicy(c echo.Context, req sessionPolicyRequest) error {
	st, err := m.Accounts.Settings(c.Request().Context(), current(c).User.TenantID)
	if err != nil {
		return classify(err)
	}
	ss := account.SessionSettingsFrom(st.Session)
	setInt(&ss.IdleTimeoutMinutes, req.IdleTimeoutMinutes)
	setInt(&ss.AbsoluteTimeoutMinutes, req.AbsoluteTimeoutMinutes)
	setInt(&ss.InactiveAfterDays, req.InactiveAfterDays)
	setBool(&ss.PCI, req.PCI)
	return m.Accounts.SetSessionPolicy(c.Request().Context(), actor(c), ss.Policy())
}

type mfaPolicyRequest struct {
	Required      *bool     `json:"required"`
	RequiredRoles *[]string `json:"required_roles"`
	GraceSignIns  *int      `json:"grace_sign_ins"`
}

func (m *Module) putMFAPolicy(c echo.Context) error {
	var req mfaPolicyRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	return m.settingsChanged(c, m.setMFAPolicy(c, req))
}

// setMFAPolicy applies an MFA policy change, for the API and the console form alike.
func (m *Module) setMFAPolicy(c echo.Context, req mfaPolicyRequest) error {
	st, err := m.Accounts.Settings(c.Request().Context(), current(c).User.TenantID)
	if err != nil {
		return classify(err)
	}
	p := st.MFA
	setBool(&p.Required, req.Required)
	if req.RequiredRoles != nil {
		if len(*req.RequiredRoles) > 64 {
			return settingsError([]account.Problem{{Field: "required_roles", Message: "Name at most 64 roles."}})
		}
		p.RequiredRoles = *req.RequiredRoles
	}
	setInt(&p.GraceSignIns, req.GraceSignIns)
	return m.Accounts.SetMFAPolicy(c.Request().Context(), actor(c), p)
}

// AllowlistBody is one IP allowlist.
type AllowlistBody struct {
	// Role is empty for the tenant-wide list.
	Role      string    `json:"role"`
	Entries   []string  `json:"entries"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// AllowlistsBody is a tenant's allowlists and the caller's own address, so a console can warn
// before saving a list that excludes it.
type AllowlistsBody struct {
	Lists          []AllowlistBody `json:"lists"`
	YourIP         string          `json:"your_ip"`
	SuspendedUntil *time.Time      `json:"suspended_until"`
}

func listBody(a account.Allowlist) AllowlistBody {
	entries := []string{}
	for _, p := range a.List.Prefixes() {
		entries = append(entries, p.String())
	}
	return AllowlistBody{Role: a.Role, Entries: entries, UpdatedAt: a.UpdatedAt, UpdatedBy: a.UpdatedBy}
}

func (m *Module) getAllowlists(c echo.Context) error {
	ctx := c.Request().Context()
	tenantID := current(c).User.TenantID
	ls, err := m.Accounts.Allowlists(ctx, tenantID)
	if err != nil {
		return classify(err)
	}
	st, err := m.Accounts.Settings(ctx, tenantID)
	if err != nil {
		return classify(err)
	}
	out := AllowlistsBody{Lists: make([]AllowlistBody, len(ls)), YourIP: c.RealIP()}
	for i, l := range ls {
		out.Lists[i] = listBody(l)
	}
	if m.now().Before(st.AllowlistSuspendedUntil) {
		t := st.AllowlistSuspendedUntil
		out.SuspendedUntil = &t
	}
	return c.JSON(http.StatusOK, out)
}

type allowlistRequest struct {
	Entries              []string `json:"entries"`
	ConfirmSelfExclusion bool     `json:"confirm_self_exclusion"`
}

func (m *Module) putAllowlist(c echo.Context, role string) error {
	var req allowlistRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	l, err := m.setAllowlist(c, role, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listBody(account.Allowlist{Role: role, List: l, UpdatedAt: m.now().UTC(), UpdatedBy: current(c).User.ID}))
}

// setAllowlist replaces an allowlist, for the API and the console form alike; a list that shuts
// out the caller's own address is refused (errExcludesSelf, with that address) until confirmed.
func (m *Module) setAllowlist(c echo.Context, role string, req allowlistRequest) (*allowlist.List, error) {
	l, err := m.Accounts.SetAllowlist(c.Request().Context(), actor(c), account.SetAllowlistInput{
		Role: role, Entries: req.Entries, ConfirmSelfExclusion: req.ConfirmSelfExclusion,
	})
	if errors.Is(err, account.ErrExcludesSelf) {
		return l, errExcludesSelf.WithDetails(map[string]string{"your_ip": c.RealIP()})
	}
	if err != nil {
		return l, classify(err)
	}
	return l, nil
}

func (m *Module) putTenantAllowlist(c echo.Context) error { return m.putAllowlist(c, "") }

func (m *Module) putRoleAllowlist(c echo.Context) error {
	role := c.Param("role")
	if role == "" || len(role) > 64 {
		return errUnknownRole
	}
	return m.putAllowlist(c, role)
}

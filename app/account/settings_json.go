package account

import (
	"math"
	"time"

	"github.com/parleyhq/parley/policy/password"
	"github.com/parleyhq/parley/policy/signin"
)

// PasswordSettings is a password policy as stored and as the API shows it: durations in days.
type PasswordSettings struct {
	Profile               string `json:"profile"`
	MinLength             int    `json:"min_length"`
	MinLengthWithMFA      int    `json:"min_length_with_mfa"`
	MaxLength             int    `json:"max_length"`
	RequireUpper          bool   `json:"require_upper"`
	RequireLower          bool   `json:"require_lower"`
	RequireDigit          bool   `json:"require_digit"`
	RequireSpecial        bool   `json:"require_special"`
	RequireLetterAndDigit bool   `json:"require_letter_and_digit"`
	BanCommon             bool   `json:"ban_common"`
	BanPersonal           bool   `json:"ban_personal"`
	ExpiryDays            int    `json:"expiry_days"`
	ExpiryWaivedWithMFA   bool   `json:"expiry_waived_with_mfa"`
	MinAgeDays            int    `json:"min_age_days"`
	HistoryDepth          int    `json:"history_depth"`
	MaxResetsPerDay       int    `json:"max_resets_per_day"`
}

// Policy converts to the policy package's form.
func (p PasswordSettings) Policy() password.Policy {
	return password.Policy{
		Profile: password.Profile(p.Profile), MinLength: p.MinLength, MinLengthWithMFA: p.MinLengthWithMFA,
		MaxLength: p.MaxLength, RequireUpper: p.RequireUpper, RequireLower: p.RequireLower,
		RequireDigit: p.RequireDigit, RequireSpecial: p.RequireSpecial, RequireLetterAndDigit: p.RequireLetterAndDigit,
		BanCommon: p.BanCommon, BanPersonal: p.BanPersonal, MaxAge: days(p.ExpiryDays),
		ExpiryWaivedWithMFA: p.ExpiryWaivedWithMFA, MinAge: days(p.MinAgeDays),
		HistoryDepth: p.HistoryDepth, MaxResetsPerDay: p.MaxResetsPerDay,
	}
}

// PasswordSettingsFrom converts a policy to its stored form.
func PasswordSettingsFrom(p password.Policy) PasswordSettings {
	return PasswordSettings{
		Profile: string(p.Profile), MinLength: p.MinLength, MinLengthWithMFA: p.MinLengthWithMFA,
		MaxLength: p.MaxLength, RequireUpper: p.RequireUpper, RequireLower: p.RequireLower,
		RequireDigit: p.RequireDigit, RequireSpecial: p.RequireSpecial, RequireLetterAndDigit: p.RequireLetterAndDigit,
		BanCommon: p.BanCommon, BanPersonal: p.BanPersonal, ExpiryDays: inDays(p.MaxAge),
		ExpiryWaivedWithMFA: p.ExpiryWaivedWithMFA, MinAgeDays: inDays(p.MinAge),
		HistoryDepth: p.HistoryDepth, MaxResetsPerDay: p.MaxResetsPerDay,
	}
}

// SignInSettings is the sign-in defence as stored and as the API shows it: durations in minutes.
type SignInSettings struct {
	CaptchaAfter     int `json:"captcha_after"`
	LockoutThreshold int `json:"lockout_threshold"`
	LockoutMinutes   int `json:"lockout_minutes"`
	DisableAfter     int `json:"disable_after"`
	IPWindowMinutes  int `json:"ip_window_minutes"`
	IPCaptchaAfter   int `json:"ip_captcha_after"`
	IPThrottleAfter  int `json:"ip_throttle_after"`
}

// Policy converts to the policy package's form.
func (s SignInSettings) Policy() signin.Policy {
	return signin.Policy{
		CaptchaAfter: s.CaptchaAfter, LockoutThreshold: s.LockoutThreshold,
		LockoutDuration: minutes(s.LockoutMinutes), DisableAfter: s.DisableAfter,
		IPWindow: minutes(s.IPWindowMinutes), IPCaptchaAfter: s.IPCaptchaAfter,
		IPThrottleAfter: s.IPThrottleAfter,
	}
}

// SignInSettingsFrom converts a policy to its stored form.
func SignInSettingsFrom(p signin.Policy) SignInSettings {
	return SignInSettings{
		CaptchaAfter: p.CaptchaAfter, LockoutThreshold: p.LockoutThreshold,
		LockoutMinutes: int(p.LockoutDuration / time.Minute), DisableAfter: p.DisableAfter,
		IPWindowMinutes: int(p.IPWindow / time.Minute), IPCaptchaAfter: p.IPCaptchaAfter,
		IPThrottleAfter: p.IPThrottleAfter,
	}
}

// SessionSettings is the session timing as stored and as the API shows it.
type SessionSettings struct {
	IdleTimeoutMinutes     int  `json:"idle_timeout_minutes"`
	AbsoluteTimeoutMinutes int  `json:"absolute_timeout_minutes"`
	InactiveAfterDays      int  `json:"inactive_after_days"`
	PCI                    bool `json:"pci"`
}

// Policy converts to the policy package's form.
func (s SessionSettings) Policy() signin.SessionPolicy {
	return signin.SessionPolicy{
		IdleTimeout:     minutes(s.IdleTimeoutMinutes),
		AbsoluteTimeout: minutes(s.AbsoluteTimeoutMinutes),
		InactiveAfter:   days(s.InactiveAfterDays), PCI: s.PCI,
	}
}

// SessionSettingsFrom converts a policy to its stored form.
func SessionSettingsFrom(p signin.SessionPolicy) SessionSettings {
	return SessionSettings{
		IdleTimeoutMinutes: int(p.IdleTimeout / time.Minute), AbsoluteTimeoutMinutes: int(p.AbsoluteTimeout / time.Minute),
		InactiveAfterDays: inDays(p.InactiveAfter), PCI: p.PCI,
	}
}

func days(n int) time.Duration { return scaled(n, 24*time.Hour) }

func minutes(n int) time.Duration { return scaled(n, time.Minute) }

// scaled is n units, saturated at the largest (or smallest) duration instead of wrapping, so no
// huge request value can overflow into the allowed range: it fails the policy's bound instead.
func scaled(n int, unit time.Duration) time.Duration {
	switch {
	case int64(n) > math.MaxInt64/int64(unit):
		return math.MaxInt64
	case int64(n) < math.MinInt64/int64(unit):
		return math.MinInt64
	}
	return time.Duration(n) * unit
}

func inDays(d time.Duration) int { return int(d / (24 * time.Hour)) }

// Settings stored before the policies had upper bounds may lie beyond them. Read back, a value
// beyond a bound is taken as the bound (counts towards the stricter side, a lockout at its
// longest), so the tenant keeps working instead of failing closed on every sign-in; the next
// change stores bounded values. The bounds are the policies' own (policy/password,
// policy/signin).

// bounded returns p with every value beyond an upper bound set to the bound.
func (p PasswordSettings) bounded() PasswordSettings {
	p.MinLength = min(p.MinLength, password.MaxMinLength)
	p.MinLengthWithMFA = min(p.MinLengthWithMFA, p.MinLength)
	p.ExpiryDays = min(p.ExpiryDays, inDays(password.MaxExpiry))
	p.MinAgeDays = min(p.MinAgeDays, inDays(password.MaxMinAge))
	p.MaxResetsPerDay = min(p.MaxResetsPerDay, password.MaxResetsLimit)
	return p
}

// bounded returns s with every value beyond an upper bound set to the bound.
func (s SignInSettings) bounded() SignInSettings {
	s.LockoutMinutes = min(s.LockoutMinutes, int(signin.MaxLockoutDuration/time.Minute))
	s.IPCaptchaAfter = min(s.IPCaptchaAfter, signin.MaxIPCaptchaAfter)
	s.IPThrottleAfter = min(s.IPThrottleAfter, signin.MaxIPThrottleAfter)
	return s
}

// bounded returns s with every value beyond an upper bound set to the bound.
func (s SessionSettings) bounded() SessionSettings {
	s.InactiveAfterDays = min(s.InactiveAfterDays, inDays(signin.MaxInactiveAfter))
	return s
}

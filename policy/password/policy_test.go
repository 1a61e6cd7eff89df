package password

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func problemFields(err error) []string {
	var pe *PolicyError
	if !errors.As(err, &pe) {
		return nil
	}
	out := make([]string, len(pe.Problems))
	for i, p := range pe.Problems {
		out[i] = p.Field
	}
	return out
}

func TestProfilesAreValid(t *testing.T) {
	for _, name := range []Profile{ProfilePCIDSS4, ProfileNIST80063B, ProfileCustom} {
		t.Run(string(name), func(t *testing.T) {
			p, err := ForProfile(name)
			if err != nil {
				t.Fatalf("ForProfile: %v", err)
			}
			if p.Profile != name {
				t.Errorf("got profile %q, want %q", p.Profile, name)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("got %v, want a valid policy", err)
			}
		})
	}
	if _, err := ForProfile("hipaa"); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("got %v, want ErrUnknownProfile", err)
	}
}

func TestProfileSettings(t *testing.T) {
	pci, nist := PCIDSS4(), NIST80063B()
	tests := []struct {
		name      string
		got, want any
	}{
		{"pci min length", pci.MinLength, 12},
		{"pci letters and digits", pci.RequireLetterAndDigit, true},
		{"pci history", pci.HistoryDepth, 4},
		{"pci expiry", pci.MaxAge, 90 * Day},
		{"pci expiry waived with mfa", pci.ExpiryWaivedWithMFA, true},
		{"pci min age", pci.MinAge, Day},
		{"nist single-factor length", nist.MinLengthFor(false), 15},
		{"nist mfa length", nist.MinLengthFor(true), 8},
		{"pci mfa length", pci.MinLengthFor(true), 12},
		{"nist no composition", nist.RequireUpper || nist.RequireLower || nist.RequireDigit || nist.RequireSpecial || nist.RequireLetterAndDigit, false},
		{"nist no expiry", nist.MaxAge, time.Duration(0)},
		{"nist blocklist", nist.BanCommon, true},
		{"nist max length", nist.MaxLength >= NISTMinMaxLength, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	pci := func(mod func(*Policy)) Policy { p := PCIDSS4(); mod(&p); return p }
	nist := func(mod func(*Policy)) Policy { p := NIST80063B(); mod(&p); return p }
	tests := []struct {
		name       string
		policy     Policy
		wantFields []string
		below      bool
	}{
		{"pci tightened", pci(func(p *Policy) { p.MinLength, p.HistoryDepth, p.RequireSpecial = 16, 10, true }), nil, false},
		{"pci upper and digit instead of letters and digits", pci(func(p *Policy) {
			p.RequireLetterAndDigit, p.RequireUpper, p.RequireDigit = false, true, true
		}), nil, false},
		{"pci too short", pci(func(p *Policy) { p.MinLength = 10 }), []string{"min_length"}, true},
		{"pci mfa relaxation", pci(func(p *Policy) { p.MinLengthWithMFA = 8 }), []string{"min_length_with_mfa"}, true},
		{"pci no letters and digits", pci(func(p *Policy) { p.RequireLetterAndDigit = false }), []string{"require_letter_and_digit"}, true},
		{"pci digit alone", pci(func(p *Policy) { p.RequireLetterAndDigit, p.RequireDigit = false, true }), []string{"require_letter_and_digit"}, true},
		{"pci short history", pci(func(p *Policy) { p.HistoryDepth = 3 }), []string{"history_depth"}, true},
		{"pci no expiry", pci(func(p *Policy) { p.MaxAge = 0 }), []string{"max_age"}, true},
		{"pci long expiry", pci(func(p *Policy) { p.MaxAge = 91 * Day }), []string{"max_age"}, true},
		{"pci every shortfall", pci(func(p *Policy) { p.MinLength, p.RequireLetterAndDigit, p.HistoryDepth, p.MaxAge = 8, false, 0, 0 }),
			[]string{"min_length", "require_letter_and_digit", "history_depth", "max_age"}, true},
		{"nist tightened", nist(func(p *Policy) { p.MinLength, p.HistoryDepth = 20, 5 }), nil, false},
		{"nist too short", nist(func(p *Policy) { p.MinLength = 12 }), []string{"min_length"}, true},
		{"nist composition", nist(func(p *Policy) { p.RequireDigit = true }), []string{"composition"}, true},
		{"nist expiry", nist(func(p *Policy) { p.MaxAge = 90 * Day }), []string{"max_age"}, true},
		{"nist no blocklist", nist(func(p *Policy) { p.BanCommon = false }), []string{"ban_common"}, true},
		{"nist no personal ban", nist(func(p *Policy) { p.BanPersonal = false }), []string{"ban_personal"}, true},
		{"nist short max", nist(func(p *Policy) { p.MaxLength = 32 }), []string{"max_length"}, true},
		{"custom below floor", custom(func(p *Policy) { p.MinLength = 6 }), []string{"min_length"}, false},
		{"custom mfa length below floor", custom(func(p *Policy) { p.MinLength, p.MinLengthWithMFA = 12, 6 }), []string{"min_length_with_mfa"}, false},
		{"custom mfa length above min", custom(func(p *Policy) { p.MinLength, p.MinLengthWithMFA = 12, 14 }), []string{"min_length_with_mfa"}, false},
		{"custom max below min", custom(func(p *Policy) { p.MinLength, p.MaxLength = 12, 10 }), []string{"max_length"}, false},
		{"custom max over cap", custom(func(p *Policy) { p.MaxLength = MaxBytes + 1 }), []string{"max_length"}, false},
		{"custom negative ages", custom(func(p *Policy) { p.MaxAge, p.MinAge = -1, -1 }), []string{"max_age", "min_age"}, false},
		{"custom min age not below expiry", custom(func(p *Policy) { p.MaxAge, p.MinAge = 5*Day, 5*Day }), []string{"min_age"}, false},
		{"custom history too deep", custom(func(p *Policy) { p.HistoryDepth = MaxHistoryDepth + 1 }), []string{"history_depth"}, false},
		{"custom negative resets", custom(func(p *Policy) { p.MaxResetsPerDay = -1 }), []string{"max_resets_per_day"}, false},
		{"custom weaker than pci is fine", custom(func(p *Policy) { p.MinLength = 8 }), nil, false},
		{"unknown profile", custom(func(p *Policy) { p.Profile = "hipaa" }), []string{"profile"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Validate()
			if got := problemFields(err); !slices.Equal(got, tt.wantFields) {
				t.Fatalf("got problems %v (%v), want %v", got, err, tt.wantFields)
			}
			if tt.wantFields == nil {
				return
			}
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Errorf("got %v, want it to match ErrInvalidPolicy", err)
			}
			if got := errors.Is(err, ErrBelowProfile); got != tt.below {
				t.Errorf("got errors.Is(ErrBelowProfile) %v, want %v", got, tt.below)
			}
		})
	}
}

func TestMeets(t *testing.T) {
	weak := custom(func(p *Policy) {})
	err := weak.Meets(ProfilePCIDSS4)
	want := []string{"min_length", "require_letter_and_digit", "history_depth", "max_age"}
	if got := problemFields(err); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if !errors.Is(err, ErrBelowProfile) {
		t.Errorf("got %v, want ErrBelowProfile", err)
	}
	msg := err.Error()
	for _, part := range []string{"min_length: The minimum length must be at least 12 characters; it is 8. (PCI DSS 8.3)", "history_depth"} {
		if !strings.Contains(msg, part) {
			t.Errorf("got message %q, want it to contain %q", msg, part)
		}
	}
	if err := PCIDSS4().Meets(ProfilePCIDSS4); err != nil {
		t.Errorf("got %v, want pci-dss-4 to meet itself", err)
	}
	if err := NIST80063B().Meets(ProfileNIST80063B); err != nil {
		t.Errorf("got %v, want nist-800-63b to meet itself", err)
	}
	if err := PCIDSS4().Meets(ProfileNIST80063B); err == nil {
		t.Error("got nil, want pci-dss-4 to conflict with nist-800-63b on composition and expiry")
	}
	if err := weak.Meets(ProfileCustom); err != nil {
		t.Errorf("got %v, want any valid policy to meet custom", err)
	}
	if err := weak.Meets("sox"); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("got %v, want ErrUnknownProfile", err)
	}
}

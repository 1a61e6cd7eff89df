package visitor

import (
	"net/url"
	"strings"

	"github.com/parleyhq/parley/app/sanitize"
)

// DefaultSensitiveParams are query parameters never stored, whatever the site configures: they
// commonly carry credentials, session ids or personal data.
var DefaultSensitiveParams = []string{
	"token", "access_token", "id_token", "refresh_token", "auth", "authorization", "code", "state",
	"password", "pass", "pwd", "secret", "key", "api_key", "apikey", "session", "sessionid", "sid",
	"jsessionid", "phpsessid", "email", "e-mail", "mail", "phone", "card", "cardnumber", "pan", "cvv",
	"cvc", "ssn", "iban", "account", "signature", "sig",
}

// Masker masks card numbers in free text (compliance/pan's Masker satisfies it).
type Masker interface {
	MaskString(s string) string
}

// CleanURL returns the form of a page or referrer URL that Parley stores: only http(s), no user
// info, no fragment, the sensitive query parameters (DefaultSensitiveParams and the site's own,
// matched case-insensitively) removed, card numbers masked, and at most 2000 characters. Anything
// that is not an absolute http(s) URL is dropped ("").
func CleanURL(raw string, sensitive []string, m Masker) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 8192 {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		drop := make(map[string]bool, len(DefaultSensitiveParams)+len(sensitive))
		for _, p := range DefaultSensitiveParams {
			drop[p] = true
		}
		for _, p := range sensitive {
			drop[strings.ToLower(strings.TrimSpace(p))] = true
		}
		var kept []string
		for _, part := range strings.Split(u.RawQuery, "&") {
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if dn, err := url.QueryUnescape(name); err == nil {
				name = dn
			}
			if drop[strings.ToLower(name)] {
				continue
			}
			kept = append(kept, part)
		}
		u.RawQuery = strings.Join(kept, "&")
		u.ForceQuery = false
	}
	out := u.String()
	if m != nil {
		// Mask both the encoded form and what a reader would decode from it.
		out = m.MaskString(out)
		if dec, err := url.PathUnescape(out); err == nil && m.MaskString(dec) != dec {
			out = m.MaskString(dec)
		}
	}
	return sanitize.Truncate(out, sanitize.Line)
}

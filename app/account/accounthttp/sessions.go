// Package accounthttp serves Parley's accounts over HTTP: the sign-in API and page, sign-out,
// CAPTCHA challenges, the session middleware every authenticated route runs first (cookie,
// timeouts, IP allowlists, CSRF, restricted sessions), self-service password, MFA and session
// management, and the administrators' user, security-settings and allowlist endpoints.
package accounthttp

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
)

// Cookie names. Under TLS the session cookie carries the __Host- prefix, so the browser only
// accepts it Secure, host-only and for the whole path.
const (
	cookieName         = "parley_session"
	hostCookieName     = "__Host-parley_session"
	loginCookieName    = "parley_login"
	hostLoginCookie    = "__Host-parley_login"
	csrfHeader         = "X-CSRF-Token"
	csrfField          = "csrf_token"
	currentKey         = "parley.account.current"
	sessionRestriction = "parley.account.restriction"
)

// Sessions authenticates console requests by their session cookie.
type Sessions struct {
	Accounts *account.Service
	// Secure marks cookies Secure and uses the __Host- prefix: set it when Parley is reached
	// over HTTPS (TLS configured, or an https public URL behind a proxy).
	Secure bool
	// Log receives security warnings (a session's request without its CSRF token); nil discards.
	Log *slog.Logger
}

// CookieName returns the session cookie's name.
func (m *Sessions) CookieName() string {
	if m.Secure {
		return hostCookieName
	}
	return cookieName
}

func (m *Sessions) loginCookieName() string {
	if m.Secure {
		return hostLoginCookie
	}
	return loginCookieName
}

// setCookie writes the session cookie: no Expires or Max-Age (it ends with the browser; the
// server ends the session itself), HttpOnly, SameSite=Strict, Secure under TLS.
func (m *Sessions) setCookie(c echo.Context, token string) {
	c.SetCookie(&http.Cookie{
		Name: m.CookieName(), Value: token, Path: "/", HttpOnly: true, Secure: m.Secure, SameSite: http.SameSiteStrictMode,
	})
}

// clearCookie removes the session cookie from the browser.
func (m *Sessions) clearCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: m.CookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: m.Secure, SameSite: http.SameSiteStrictMode,
	})
}

func origin(c echo.Context) account.Origin {
	return account.Origin{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: api.RequestID(c)}
}

// Errors of authenticated requests.
var (
	errSessionExpired = api.New(http.StatusUnauthorized, "session_expired", "Your session has ended; sign in again.")
	errIPNotAllowed   = api.New(http.StatusForbidden, "ip_not_allowed", "Your organisation does not allow sign-in from this network address.")
	errPasswordChange = api.New(http.StatusForbidden, "password_change_required", "Change your password to continue.")
	errMFAEnrolment   = api.New(http.StatusForbidden, "mfa_enrolment_required", "Set up two-step verification to continue.")
)

// Authenticate is the session middleware: it resolves the session cookie, refuses an expired
// session, an address outside the allowlists, a state-changing request without the session's
// CSRF token (X-CSRF-Token header or csrf_token form field), and any route a restricted session
// may not use; then it records the api.Principal and calls next.
func (m *Sessions) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(m.CookieName())
		if err != nil || ck.Value == "" {
			return m.unauthenticated(c, api.ErrUnauthenticated)
		}
		cur, err := m.Accounts.Authenticate(c.Request().Context(), ck.Value, origin(c))
		switch {
		case errors.Is(err, account.ErrNoSession):
			m.clearCookie(c)
			return m.unauthenticated(c, api.ErrUnauthenticated)
		case errors.Is(err, account.ErrSessionExpired):
			m.clearCookie(c)
			return m.unauthenticated(c, errSessionExpired)
		case errors.Is(err, account.ErrIPNotAllowed):
			return errIPNotAllowed
		case err != nil:
			return classify(err)
		}
		if !safeMethod(c.Request().Method) {
			presented := c.Request().Header.Get(csrfHeader)
			if presented == "" && isForm(c.Request()) {
				presented = c.FormValue(csrfField)
			}
			if !account.CheckCSRF(cur.Token, presented) {
				if m.Log != nil {
					m.Log.WarnContext(c.Request().Context(), "state-changing request without its session's CSRF token",
						"request_id", api.RequestID(c), "session_id", cur.Session.ID, "user_id", cur.User.ID,
						"path", c.Path(), "client_ip", c.RealIP(), "token_sent", presented != "")
				}
				return api.ErrCSRF
			}
		}
		if r := cur.Session.Restriction; r != account.RestrictNone && !allowedWhileRestricted(r, c.Request().Method+" "+c.Path()) {
			if !strings.HasPrefix(c.Path(), "/api/") && c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, restrictionPage(r))
			}
			if r == account.RestrictPasswordChange {
				return errPasswordChange
			}
			return errMFAEnrolment
		}
		c.Set(currentKey, &cur)
		api.SetPrincipal(c, &api.Principal{
			TenantID: cur.User.TenantID, UserID: cur.User.ID, SessionID: cur.Session.ID, Email: cur.User.Email, MFA: cur.Session.MFA,
		})
		return next(c)
	}
}

// current returns the request's session, set by Authenticate.
func current(c echo.Context) *account.Current {
	cur, _ := c.Get(currentKey).(*account.Current)
	return cur
}

// restrictedRoutes are what a restricted session may use, besides signing out and reading its
// own state.
var restrictedRoutes = map[account.Restriction][]string{
	account.RestrictPasswordChange: {
		"POST /api/v1/account/password", "GET /account/password", "POST /account/password",
	},
	account.RestrictMFAEnrolment: {
		"POST /api/v1/account/mfa/enrolment", "POST /api/v1/account/mfa/activation",
		"GET /account/mfa", "POST /account/mfa/enrolment", "POST /account/mfa/activation",
	},
}

var alwaysAllowed = []string{"GET /api/v1/auth/session", "POST /api/v1/auth/logout", "POST /logout"}

func allowedWhileRestricted(r account.Restriction, key string) bool {
	for _, k := range alwaysAllowed {
		if k == key {
			return true
		}
	}
	for _, k := range restrictedRoutes[r] {
		if k == key {
			return true
		}
	}
	return false
}

func restrictionPage(r account.Restriction) string {
	if r == account.RestrictPasswordChange {
		return "/account/password"
	}
	return "/account/mfa"
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// isForm reports whether r is a URL-encoded form, the only body whose CSRF field is read here:
// the console's forms are URL-encoded, and parsing a multipart body (up to an upload route's
// limit) before the caller's permission is checked would let any session make the server read it.
func isForm(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEApplicationForm)
}

// unauthenticated answers a request without a live session: console pages send the browser to
// the sign-in page, everything else gets err.
func (m *Sessions) unauthenticated(c echo.Context, err error) error {
	if c.Request().Method == http.MethodGet && !strings.HasPrefix(c.Path(), "/api/") {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return err
}

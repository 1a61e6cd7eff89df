package accounthttp

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/policy/password"
)

// loginView is what login.html shows.
type loginView struct {
	CSRF, Tenant, Email string
	Error               string
	Captcha             *ChallengeBody
	CodeRequested       bool
}

// newLoginToken sets the pre-session CSRF cookie of the sign-in form (double submit: the form
// carries the same random value) and returns it.
func (m *Module) newLoginToken(c echo.Context) (string, error) {
	var b [32]byte
	r := m.Rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	c.SetCookie(&http.Cookie{Name: m.Sessions.loginCookieName(), Value: tok, Path: "/", HttpOnly: true,
		Secure: m.Sessions.Secure, SameSite: http.SameSiteStrictMode})
	return tok, nil
}

func (m *Module) loginPage(c echo.Context) error {
	tok, err := m.newLoginToken(c)
	if err != nil {
		return err
	}
	return m.Pages.Render(c, http.StatusOK, "login.html", loginView{CSRF: tok, Tenant: pan.MaskLast4(c.QueryParam("tenant"))})
}

func (m *Module) loginSubmit(c echo.Context) error {
	ck, err := c.Cookie(m.Sessions.loginCookieName())
	field := c.FormValue(csrfField)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(field)) != 1 {
		return api.ErrCSRF
	}
	req := loginRequest{
		Tenant: c.FormValue("tenant"), Email: c.FormValue("email"), Password: c.FormValue("password"),
		TOTP: c.FormValue("totp"), CaptchaID: c.FormValue("captcha_id"), CaptchaAnswer: c.FormValue("captcha_answer"),
	}
	// What was typed is shown back on a refusal, with any card number in it masked.
	view := loginView{CSRF: ck.Value, Tenant: pan.MaskLast4(req.Tenant), Email: pan.MaskLast4(req.Email), CodeRequested: req.TOTP != ""}
	in, err := req.credentials()
	if err == nil {
		var res account.SignInResult
		res, err = m.Accounts.SignIn(c.Request().Context(), in, origin(c))
		if err == nil {
			m.Sessions.setCookie(c, res.Session.Token)
			switch res.Restriction {
			case account.RestrictPasswordChange:
				return c.Redirect(http.StatusSeeOther, "/account/password")
			case account.RestrictMFAEnrolment:
				return c.Redirect(http.StatusSeeOther, "/account/mfa")
			}
			// Each user starts where their work is: /start picks the landing page their
			// permissions reach (overview, live chats, workspace, audit log, or this account).
			return c.Redirect(http.StatusSeeOther, "/start")
		}
		retryAfter(c, err, m.now())
		err = classify(err)
	}
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status >= 500 && ae.Code != api.ErrUnavailable.Code {
		return err
	}
	view.Error = ae.Message
	if ae.Code == errMFARequired.Code || ae.Code == errMFAInvalid.Code {
		view.CodeRequested = true
	}
	if ch, ok := ae.Details.(ChallengeBody); ok {
		view.Captcha = &ch
	}
	return m.Pages.Render(c, ae.Status, "login.html", view)
}

func (m *Module) logoutSubmit(c echo.Context) error {
	if err := m.Accounts.SignOut(c.Request().Context(), *current(c), origin(c)); err != nil {
		return classify(err)
	}
	m.Sessions.clearCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// accountView is what account.html shows.
type accountView struct {
	CSRF     string
	User     UserBody
	Sessions []SessionItem
	Notice   string
}

func (m *Module) accountPage(c echo.Context) error {
	ctx := c.Request().Context()
	cur := current(c)
	v, err := m.Accounts.User(ctx, cur.User.TenantID, cur.User.ID)
	if err != nil {
		return classify(err)
	}
	vs, err := m.Accounts.Sessions(ctx, cur.User.TenantID, cur.User.ID)
	if err != nil {
		return classify(err)
	}
	view := accountView{CSRF: account.CSRFToken(cur.Token), User: userBody(v)}
	for _, s := range vs {
		view.Sessions = append(view.Sessions, SessionItem{ID: s.ID, Current: s.ID == cur.Session.ID, ClientIP: s.ClientIP,
			UserAgent: s.UserAgent, CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt, MFA: s.MFA})
	}
	switch c.QueryParam("done") {
	case "password":
		view.Notice = "Your password was changed. Your other sessions were signed out."
	case "session":
		view.Notice = "The session was ended."
	}
	return m.Pages.Render(c, http.StatusOK, "account.html", view)
}

func (m *Module) revokeSessionSubmit(c echo.Context) error {
	cur := current(c)
	if err := m.Accounts.RevokeSession(c.Request().Context(), actor(c), cur.User.ID, c.Param("id")); err != nil {
		return classify(err)
	}
	if c.Param("id") == cur.Session.ID {
		m.Sessions.clearCookie(c)
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return c.Redirect(http.StatusSeeOther, "/account?done=session")
}

// passwordView is what account_password.html shows.
type passwordView struct {
	CSRF   string
	Forced bool
	Rules  []string
	Errors []string
}

func (m *Module) passwordView(c echo.Context) (passwordView, error) {
	cur := current(c)
	st, err := m.Accounts.Settings(c.Request().Context(), cur.User.TenantID)
	if err != nil {
		return passwordView{}, err
	}
	return passwordView{
		CSRF: account.CSRFToken(cur.Token), Forced: cur.Session.Restriction == account.RestrictPasswordChange,
		Rules: PolicyRules(st.Password, st.MFA.EnforcedFor(cur.Roles)),
	}, nil
}

func (m *Module) passwordPage(c echo.Context) error {
	view, err := m.passwordView(c)
	if err != nil {
		return classify(err)
	}
	return m.Pages.Render(c, http.StatusOK, "account_password.html", view)
}

func (m *Module) passwordSubmit(c echo.Context) error {
	view, err := m.passwordView(c)
	if err != nil {
		return classify(err)
	}
	next, confirm := c.FormValue("new_password"), c.FormValue("confirm")
	if next != confirm {
		view.Errors = []string{"The two new passwords differ."}
		return m.Pages.Render(c, http.StatusBadRequest, "account_password.html", view)
	}
	ns, err := m.Accounts.ChangePassword(c.Request().Context(), *current(c), c.FormValue("current_password"), next, origin(c))
	if err != nil {
		var (
			rejected *account.PasswordRejected
			tooSoon  *account.TooSoonError
		)
		status := http.StatusBadRequest
		switch {
		case errors.As(err, &rejected):
			for _, v := range rejected.Violations {
				view.Errors = append(view.Errors, v.Message)
			}
		case errors.Is(err, account.ErrWrongPassword):
			view.Errors = []string{errWrongPassword.Message}
		case errors.As(err, &tooSoon):
			status = http.StatusConflict
			view.Errors = []string{fmt.Sprintf("You changed your password recently; you can change it again from %s.",
				tooSoon.AllowedAt.UTC().Format("2006-01-02 15:04 MST"))}
		case errors.Is(err, account.ErrPasswordTooLong):
			view.Errors = []string{errPasswordTooLong.Message}
		default:
			return classify(err)
		}
		return m.Pages.Render(c, status, "account_password.html", view)
	}
	m.Sessions.setCookie(c, ns.Token)
	if ns.Session.Restriction == account.RestrictMFAEnrolment {
		return c.Redirect(http.StatusSeeOther, "/account/mfa")
	}
	return c.Redirect(http.StatusSeeOther, "/account?done=password")
}

// mfaView is what account_mfa.html shows.
type mfaView struct {
	CSRF      string
	Enabled   bool
	Required  bool
	Enrolling bool
	QRCode    template.URL
	ManualKey string
	Codes     []string
	Errors    []string
}

func (m *Module) mfaView(c echo.Context) mfaView {
	cur := current(c)
	return mfaView{CSRF: account.CSRFToken(cur.Token), Enabled: cur.User.MFAEnabled,
		Required: cur.Session.Restriction == account.RestrictMFAEnrolment}
}

func (m *Module) mfaPage(c echo.Context) error {
	return m.Pages.Render(c, http.StatusOK, "account_mfa.html", m.mfaView(c))
}

func (m *Module) mfaEnrolSubmit(c echo.Context) error {
	view := m.mfaView(c)
	enr, err := m.Accounts.BeginMFAEnrolment(c.Request().Context(), *current(c))
	if err != nil {
		if errors.Is(err, account.ErrMFAAlreadyEnrolled) {
			view.Errors = []string{errMFAEnrolled.Message}
			return m.Pages.Render(c, http.StatusConflict, "account_mfa.html", view)
		}
		return classify(err)
	}
	view.Enrolling = true
	// The data: URL is built here from PNG bytes, never from input.
	view.QRCode = template.URL(qrDataURL(enr.QRCode)) // #nosec G203 -- a data:image/png URL of server-made bytes
	view.ManualKey = enr.ManualKey
	return m.Pages.Render(c, http.StatusOK, "account_mfa.html", view)
}

func (m *Module) mfaActivateSubmit(c echo.Context) error {
	view := m.mfaView(c)
	code := c.FormValue("code")
	if len(code) > maxCodeLen {
		code = ""
	}
	codes, ns, err := m.Accounts.ActivateMFA(c.Request().Context(), *current(c), code, origin(c))
	switch {
	case errors.Is(err, account.ErrMFAInvalid):
		view.Enrolling = true
		view.Errors = []string{"That code is not right. Check the time on your phone and enter the code shown now."}
		return m.Pages.Render(c, http.StatusBadRequest, "account_mfa.html", view)
	case errors.Is(err, account.ErrNoPendingEnrolment):
		view.Errors = []string{errNoPending.Message}
		return m.Pages.Render(c, http.StatusConflict, "account_mfa.html", view)
	case err != nil:
		return classify(err)
	}
	m.Sessions.setCookie(c, ns.Token)
	view.CSRF = account.CSRFToken(ns.Token)
	view.Enabled, view.Required, view.Codes = true, false, codes
	return m.Pages.Render(c, http.StatusOK, "account_mfa.html", view)
}

// inviteView is what invite.html shows.
type inviteView struct {
	Token, TenantName, Email, ExpiresAt string
	Rules                               []string
	Errors                              []string
	Done                                bool
}

func (m *Module) inviteView(c echo.Context, token string) (inviteView, error) {
	ctx := c.Request().Context()
	inv, err := m.Accounts.InvitationFor(ctx, token)
	if err != nil {
		return inviteView{}, classify(err)
	}
	st, err := m.Accounts.Settings(ctx, inv.TenantID)
	if err != nil {
		return inviteView{}, err
	}
	return inviteView{Token: token, TenantName: inv.TenantName, Email: inv.Email, ExpiresAt: inv.ExpiresAt.UTC().Format(time.RFC3339),
		Rules: PolicyRules(st.Password, st.MFA.Required)}, nil
}

func (m *Module) invitePage(c echo.Context) error {
	view, err := m.inviteView(c, c.QueryParam("token"))
	if err != nil {
		return err
	}
	return m.Pages.Render(c, http.StatusOK, "invite.html", view)
}

func (m *Module) inviteSubmit(c echo.Context) error {
	token := c.FormValue("token")
	view, err := m.inviteView(c, token)
	if err != nil {
		return err
	}
	next := c.FormValue("password")
	if next != c.FormValue("confirm") {
		view.Errors = []string{"The two passwords differ."}
		return m.Pages.Render(c, http.StatusBadRequest, "invite.html", view)
	}
	_, err = m.Accounts.AcceptInvitation(c.Request().Context(), token, next, origin(c))
	var rejected *account.PasswordRejected
	switch {
	case errors.As(err, &rejected):
		for _, v := range rejected.Violations {
			view.Errors = append(view.Errors, v.Message)
		}
		return m.Pages.Render(c, http.StatusBadRequest, "invite.html", view)
	case errors.Is(err, account.ErrPasswordTooLong):
		view.Errors = []string{errPasswordTooLong.Message}
		return m.Pages.Render(c, http.StatusBadRequest, "invite.html", view)
	case err != nil:
		return classify(err)
	}
	view.Done = true
	return m.Pages.Render(c, http.StatusOK, "invite.html", view)
}

// PolicyRules describes a password policy in words for a form.
func PolicyRules(p password.Policy, mfa bool) []string {
	var out []string
	out = append(out, fmt.Sprintf("At least %d characters.", p.MinLengthFor(mfa)))
	if p.MaxLength > 0 {
		out = append(out, fmt.Sprintf("At most %d characters.", p.MaxLength))
	}
	if p.RequireLetterAndDigit {
		out = append(out, "Letters and digits.")
	}
	for _, r := range []struct {
		on   bool
		text string
	}{
		{p.RequireUpper, "An upper-case letter."}, {p.RequireLower, "A lower-case letter."},
		{p.RequireDigit && !p.RequireLetterAndDigit, "A digit."}, {p.RequireSpecial, "A symbol such as $ & # @."},
		{p.BanCommon, "Not a commonly used password."}, {p.BanPersonal, "Not your name, e-mail address or organisation."},
	} {
		if r.on {
			out = append(out, r.text)
		}
	}
	if p.HistoryDepth > 0 {
		out = append(out, fmt.Sprintf("Not one of your last %d passwords.", p.HistoryDepth))
	}
	return out
}

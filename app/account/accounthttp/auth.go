package accounthttp

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/captcha"
	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/web"
)

// Module serves the account routes: the sign-in API and pages, self-service and administration.
type Module struct {
	Accounts *account.Service
	Sessions *Sessions
	Tenants  *tenant.Store
	Pages    *web.Pages
	// PublicURL is the external base URL, for invitation links.
	PublicURL string
	Now       func() time.Time
	// Rand is the source of the sign-in form's CSRF token; nil means crypto/rand.
	Rand io.Reader
	// Roles lists roles and grants and removes a user's roles on the console's user page.
	Roles RoleAdmin
	// Guard tells the console pages which forms their user may send.
	Guard Permits
}

// loginRequest is the body of POST /api/v1/auth/login (DESIGN.md §8).
type loginRequest struct {
	Tenant        string `json:"tenant"`
	Email         string `json:"email"`
	Password      string `json:"password"`
	TOTP          string `json:"totp"`
	CaptchaID     string `json:"captcha_id"`
	CaptchaAnswer string `json:"captcha_answer"`
}

// Input bounds, checked before any work.
const (
	maxTenantLen = 100
	maxEmailLen  = 254
	maxCodeLen   = 64
)

func (r loginRequest) credentials() (account.Credentials, error) {
	switch {
	case r.Tenant == "" || len(r.Tenant) > maxTenantLen:
		return account.Credentials{}, api.ErrInvalidRequest.WithField("tenant").WithMessage("Enter your organisation's sign-in id.")
	case r.Email == "" || len(r.Email) > maxEmailLen:
		return account.Credentials{}, api.ErrInvalidRequest.WithField("email").WithMessage("Enter your e-mail address.")
	case r.Password == "":
		return account.Credentials{}, api.ErrInvalidRequest.WithField("password").WithMessage("Enter your password.")
	case len(r.Password) > 1024:
		return account.Credentials{}, errPasswordTooLong
	case len(r.TOTP) > maxCodeLen:
		return account.Credentials{}, errMFAInvalid.WithField("totp")
	case len(r.CaptchaID) > maxCodeLen || len(r.CaptchaAnswer) > maxCodeLen:
		return account.Credentials{}, api.ErrInvalidRequest.WithField("captcha_answer").WithMessage("The CAPTCHA answer is too long.")
	}
	return account.Credentials{
		Tenant: r.Tenant, Email: r.Email, Password: r.Password, TOTP: r.TOTP,
		CaptchaID: r.CaptchaID, CaptchaAnswer: r.CaptchaAnswer,
	}, nil
}

// UserBody is a user as the API shows it.
type UserBody struct {
	ID                 string     `json:"id"`
	TenantID           string     `json:"tenant_id"`
	Email              string     `json:"email"`
	DisplayName        string     `json:"display_name"`
	Status             string     `json:"status"`
	Roles              []string   `json:"roles"`
	MFAEnabled         bool       `json:"mfa_enabled"`
	MustChangePassword bool       `json:"must_change_password"`
	PasswordChangedAt  *time.Time `json:"password_changed_at"`
	PasswordExpiresAt  *time.Time `json:"password_expires_at"`
	LastSignInAt       *time.Time `json:"last_sign_in_at"`
	LastSignInIP       string     `json:"last_sign_in_ip"`
	PreviousSignInAt   *time.Time `json:"previous_sign_in_at"`
	PreviousSignInIP   string     `json:"previous_sign_in_ip"`
	LockedUntil        *time.Time `json:"locked_until"`
	FailedSignIns      int        `json:"failed_sign_ins"`
	LifetimeFailures   int        `json:"lifetime_failed_sign_ins"`
	DisabledReason     string     `json:"disabled_reason,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
}

func userBody(v account.UserView) UserBody {
	return UserBody{
		ID: v.ID, TenantID: v.TenantID, Email: v.Email, DisplayName: v.DisplayName, Status: string(v.Status), Roles: v.Roles,
		MFAEnabled: v.MFAEnabled, MustChangePassword: v.MustChangePassword, PasswordChangedAt: v.PasswordChangedAt,
		PasswordExpiresAt: v.PasswordExpiresAt, LastSignInAt: v.LastSignInAt, LastSignInIP: v.LastSignInIP,
		PreviousSignInAt: v.PreviousSignInAt, PreviousSignInIP: v.PreviousSignInIP, LockedUntil: v.LockedUntil,
		FailedSignIns: v.FailedSignIns, LifetimeFailures: v.LifetimeFailures, DisabledReason: v.DisabledReason,
		CreatedAt: v.CreatedAt,
	}
}

// SessionBody is the state of the caller's session.
type SessionBody struct {
	ID          string    `json:"id"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	MFA         bool      `json:"mfa"`
	Restriction string    `json:"restriction"`
}

// SignInBody answers a successful sign-in and GET /api/v1/auth/session.
type SignInBody struct {
	User      UserBody    `json:"user"`
	Session   SessionBody `json:"session"`
	CSRFToken string      `json:"csrf_token"`
	// LastSignIn is the sign-in before this one ("last sign-in from …"), null for a first one.
	LastSignIn        *SignInMark `json:"last_sign_in"`
	RecoveryCodesLeft *int        `json:"recovery_codes_left,omitempty"`
}

// SignInMark is when and from where a sign-in happened.
type SignInMark struct {
	At time.Time `json:"at"`
	IP string    `json:"ip"`
}

func mark(at *time.Time, ip string) *SignInMark {
	if at == nil {
		return nil
	}
	return &SignInMark{At: at.UTC(), IP: ip}
}

func (m *Module) login(c echo.Context) error {
	var req loginRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	in, err := req.credentials()
	if err != nil {
		return err
	}
	res, err := m.Accounts.SignIn(c.Request().Context(), in, origin(c))
	if err != nil {
		retryAfter(c, err, m.now())
		return classify(err)
	}
	m.Sessions.setCookie(c, res.Session.Token)
	switch res.Restriction {
	case account.RestrictPasswordChange:
		return errPasswordChange
	case account.RestrictMFAEnrolment:
		return errMFAEnrolment
	}
	body, err := m.signInBody(c, res.Session.Session, res.Session.Token, res.User.ID, res.PreviousAt, res.PreviousIP)
	if err != nil {
		return err
	}
	if res.RecoveryCodeUsed {
		n := res.RecoveryCodesLeft
		body.RecoveryCodesLeft = &n
	}
	return c.JSON(http.StatusOK, body)
}

func (m *Module) signInBody(c echo.Context, s account.Session, token, userID string, prevAt *time.Time, prevIP string) (SignInBody, error) {
	ctx := c.Request().Context()
	v, err := m.Accounts.User(ctx, s.TenantID, userID)
	if err != nil {
		return SignInBody{}, err
	}
	st, err := m.Accounts.Settings(ctx, s.TenantID)
	if err != nil {
		return SignInBody{}, err
	}
	sb := SessionBody{
		ID: s.ID, CreatedAt: s.CreatedAt, MFA: s.MFA, Restriction: string(s.Restriction),
		ExpiresAt: st.Session.SessionExpiresAt(s.CreatedAt, s.LastSeenAt),
	}
	return SignInBody{User: userBody(v), Session: sb, CSRFToken: account.CSRFToken(token), LastSignIn: mark(prevAt, prevIP)}, nil
}

func (m *Module) session(c echo.Context) error {
	cur := current(c)
	body, err := m.signInBody(c, cur.Session, cur.Token, cur.User.ID, cur.User.PreviousLoginAt, cur.User.PreviousLoginIP)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, body)
}

func (m *Module) logout(c echo.Context) error {
	if err := m.Accounts.SignOut(c.Request().Context(), *current(c), origin(c)); err != nil {
		return classify(err)
	}
	m.Sessions.clearCookie(c)
	return c.NoContent(http.StatusNoContent)
}

// ChallengeBody is a CAPTCHA challenge: its id and where to fetch the picture and the sound.
type ChallengeBody struct {
	CaptchaID string    `json:"captcha_id"`
	ImageURL  string    `json:"image_url"`
	AudioURL  string    `json:"audio_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

func challengeBody(ch captcha.Challenge) ChallengeBody {
	return ChallengeBody{
		CaptchaID: ch.ID, ImageURL: "/api/v1/auth/captcha/" + ch.ID + "/image",
		AudioURL: "/api/v1/auth/captcha/" + ch.ID + "/audio", ExpiresAt: ch.ExpiresAt.UTC(),
	}
}

func (m *Module) newChallenge(c echo.Context) error {
	ch, err := m.Accounts.NewChallenge(c.Request().Context(), origin(c))
	if err != nil {
		retryAfter(c, err, m.now())
		return classify(err)
	}
	return c.JSON(http.StatusOK, challengeBody(ch))
}

func (m *Module) challenge(c echo.Context) (captcha.Challenge, error) {
	ch, err := m.Accounts.Captcha.Challenge(c.Request().Context(), c.Param("id"))
	if errors.Is(err, captcha.ErrNotFound) || errors.Is(err, captcha.ErrExpired) {
		return captcha.Challenge{}, errCaptchaGone
	}
	return ch, err
}

func (m *Module) challengeImage(c echo.Context) error {
	ch, err := m.challenge(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "image/png")
	c.Response().WriteHeader(http.StatusOK)
	return captcha.WritePNG(c.Response(), ch)
}

func (m *Module) challengeAudio(c echo.Context) error {
	ch, err := m.challenge(c)
	if err != nil {
		return err
	}
	lang := c.QueryParam("lang")
	if lang == "" {
		lang = c.Request().Header.Get("Accept-Language")
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "audio/wav")
	c.Response().WriteHeader(http.StatusOK)
	return captcha.WriteWAV(c.Response(), ch, lang)
}

func (m *Module) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

package accounthttp

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/api"
)

func (m *Module) me(c echo.Context) error {
	cur := current(c)
	v, err := m.Accounts.User(c.Request().Context(), cur.User.TenantID, cur.User.ID)
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, userBody(v))
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// RotatedBody answers a request that replaced the session token: the new CSRF token goes with
// the new cookie.
type RotatedBody struct {
	CSRFToken string      `json:"csrf_token"`
	Session   SessionBody `json:"session"`
}

func (m *Module) rotated(c echo.Context, ns account.NewSession) (RotatedBody, error) {
	m.Sessions.setCookie(c, ns.Token)
	st, err := m.Accounts.Settings(c.Request().Context(), ns.Session.TenantID)
	if err != nil {
		return RotatedBody{}, err
	}
	s := ns.Session
	return RotatedBody{CSRFToken: account.CSRFToken(ns.Token), Session: SessionBody{
		ID: s.ID, CreatedAt: s.CreatedAt, MFA: s.MFA, Restriction: string(s.Restriction),
		ExpiresAt: st.Session.SessionExpiresAt(s.CreatedAt, s.LastSeenAt),
	}}, nil
}

func (m *Module) changePassword(c echo.Context) error {
	var req passwordRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	if req.CurrentPassword == "" {
		return api.ErrInvalidRequest.WithField("current_password").WithMessage("Enter your current password.")
	}
	if req.NewPassword == "" {
		return api.ErrInvalidRequest.WithField("new_password").WithMessage("Enter a new password.")
	}
	ns, err := m.Accounts.ChangePassword(c.Request().Context(), *current(c), req.CurrentPassword, req.NewPassword, origin(c))
	if err != nil {
		return classify(err)
	}
	body, err := m.rotated(c, ns)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, body)
}

// SessionItem is one session in a list.
type SessionItem struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	ClientIP   string    `json:"client_ip"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	MFA        bool      `json:"mfa"`
}

// SessionList is a user's live sessions.
type SessionList struct {
	Sessions []SessionItem `json:"sessions"`
}

func (m *Module) listSessions(c echo.Context, userID string) error {
	cur := current(c)
	vs, err := m.Accounts.Sessions(c.Request().Context(), cur.User.TenantID, userID)
	if err != nil {
		return classify(err)
	}
	out := SessionList{Sessions: make([]SessionItem, len(vs))}
	for i, v := range vs {
		out.Sessions[i] = SessionItem{
			ID: v.ID, Current: v.ID == cur.Session.ID, ClientIP: v.ClientIP, UserAgent: v.UserAgent,
			CreatedAt: v.CreatedAt, LastSeenAt: v.LastSeenAt, ExpiresAt: v.ExpiresAt, MFA: v.MFA,
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (m *Module) mySessions(c echo.Context) error { return m.listSessions(c, current(c).User.ID) }

func (m *Module) revokeMySession(c echo.Context) error {
	cur := current(c)
	if err := m.Accounts.RevokeSession(c.Request().Context(), actor(c), cur.User.ID, c.Param("id")); err != nil {
		return classify(err)
	}
	if c.Param("id") == cur.Session.ID {
		m.Sessions.clearCookie(c)
	}
	return c.NoContent(http.StatusNoContent)
}

// EnrolmentBody is a started TOTP enrolment. Every field carries the secret: it is sent once,
// never logged, never cached.
type EnrolmentBody struct {
	ManualKey  string `json:"manual_key"`
	OTPAuthURL string `json:"otpauth_url"`
	// QRCode is a data: URL of a PNG of OTPAuthURL.
	QRCode string `json:"qr_code"`
}

func qrDataURL(png []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

func (m *Module) beginEnrolment(c echo.Context) error {
	enr, err := m.Accounts.BeginMFAEnrolment(c.Request().Context(), *current(c))
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, EnrolmentBody{ManualKey: enr.ManualKey, OTPAuthURL: enr.URL, QRCode: qrDataURL(enr.QRCode)})
}

type codeRequest struct {
	Code string `json:"code"`
}

// ActivationBody answers a successful MFA activation: the recovery codes, shown once, and the
// new session's CSRF token.
type ActivationBody struct {
	RecoveryCodes []string `json:"recovery_codes"`
	RotatedBody
}

func (m *Module) activate(c echo.Context) error {
	var req codeRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	if req.Code == "" || len(req.Code) > maxCodeLen {
		return errMFAInvalid.WithField("code")
	}
	codes, ns, err := m.Accounts.ActivateMFA(c.Request().Context(), *current(c), req.Code, origin(c))
	if err != nil {
		return classify(err)
	}
	rb, err := m.rotated(c, ns)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ActivationBody{RecoveryCodes: codes, RotatedBody: rb})
}

// RecoveryCodesBody carries new recovery codes, shown once.
type RecoveryCodesBody struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (m *Module) regenerateCodes(c echo.Context) error {
	codes, err := m.Accounts.RegenerateRecoveryCodes(c.Request().Context(), *current(c), origin(c))
	if err != nil {
		return classify(err)
	}
	return c.JSON(http.StatusOK, RecoveryCodesBody{RecoveryCodes: codes})
}

// actor is the signed-in user acting from this request.
func actor(c echo.Context) account.Actor {
	cur := current(c)
	return account.Actor{TenantID: cur.User.TenantID, UserID: cur.User.ID, Origin: origin(c)}
}

package accounthttp

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/server"
)

// Permissions the account routes declare (DESIGN.md §5).
const (
	PermUserManage     = "user.manage"
	PermSecurityManage = "security.manage"
)

var _ server.Module = (*Module)(nil)

// Routes implements server.Module.
func (m *Module) Routes() []server.Route {
	pub := func(method, path, summary string, api bool, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Public, API: api, Summary: summary, Handler: h}
	}
	auth := func(method, path, summary string, api bool, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, API: api, Summary: summary, Handler: h}
	}
	perm := func(p, method, path, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: p, Scope: server.ScopeTenant,
			API: true, Summary: summary, Handler: h}
	}
	page := func(p, method, path, summary string, h echo.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Access: server.Authenticated, Permission: p, Scope: server.ScopeTenant,
			Summary: summary, Handler: h}
	}
	return []server.Route{
		pub(http.MethodPost, "/api/v1/auth/login", "Sign in: password, then second factor and CAPTCHA when asked; sets the session cookie.", true, m.login),
		pub(http.MethodGet, "/api/v1/auth/captcha", "A new CAPTCHA challenge.", true, m.newChallenge),
		pub(http.MethodGet, "/api/v1/auth/captcha/:id/image", "A CAPTCHA challenge as a PNG picture.", true, m.challengeImage),
		pub(http.MethodGet, "/api/v1/auth/captcha/:id/audio", "A CAPTCHA challenge spoken, as WAV audio.", true, m.challengeAudio),
		auth(http.MethodGet, "/api/v1/auth/session", "The caller's session, user and CSRF token.", true, m.session),
		auth(http.MethodPost, "/api/v1/auth/logout", "Sign out: end the caller's session.", true, m.logout),
		auth(http.MethodGet, "/api/v1/account", "The caller's account: last sign-in, MFA and password state.", true, m.me),
		auth(http.MethodPost, "/api/v1/account/password", "Change the caller's password; replaces the session token.", true, m.changePassword),
		auth(http.MethodGet, "/api/v1/account/sessions", "The caller's live sessions.", true, m.mySessions),
		auth(http.MethodDelete, "/api/v1/account/sessions/:id", "End one of the caller's sessions.", true, m.revokeMySession),
		auth(http.MethodPost, "/api/v1/account/mfa/enrolment", "Start TOTP enrolment: QR code and manual key.", true, m.beginEnrolment),
		auth(http.MethodPost, "/api/v1/account/mfa/activation", "Activate TOTP with a first code; returns 10 recovery codes.", true, m.activate),
		auth(http.MethodPost, "/api/v1/account/mfa/recovery-codes", "Replace the caller's recovery codes.", true, m.regenerateCodes),

		perm(PermUserManage, http.MethodGet, "/api/v1/users", "The organisation's users.", m.listUsers),
		perm(PermUserManage, http.MethodPost, "/api/v1/users/invitations", "Invite a user: returns a one-time link.", m.invite),
		perm(PermUserManage, http.MethodGet, "/api/v1/users/:id", "One user.", m.getUser),
		perm(PermUserManage, http.MethodPost, "/api/v1/users/:id/unlock", "End a user's lockout.", m.unlock),
		perm(PermUserManage, http.MethodPost, "/api/v1/users/:id/disable", "Disable a user and end their sessions.", m.disable),
		perm(PermUserManage, http.MethodPost, "/api/v1/users/:id/enable", "Re-enable a disabled user.", m.enable),
		perm(PermUserManage, http.MethodPost, "/api/v1/users/:id/password-reset", "Reset a user's password to a temporary one.", m.resetPassword),
		perm(PermUserManage, http.MethodPost, "/api/v1/users/:id/mfa-reset", "Remove a user's second factor.", m.resetMFA),
		perm(PermUserManage, http.MethodGet, "/api/v1/users/:id/sessions", "A user's live sessions.", m.userSessions),
		perm(PermUserManage, http.MethodDelete, "/api/v1/users/:id/sessions/:session", "End one of a user's sessions.", m.revokeUserSession),

		perm(PermSecurityManage, http.MethodGet, "/api/v1/security/settings", "Password, sign-in, session and MFA policy.", m.getSettings),
		perm(PermSecurityManage, http.MethodPut, "/api/v1/security/settings/password", "Change the password policy.", m.putPasswordPolicy),
		perm(PermSecurityManage, http.MethodPut, "/api/v1/security/settings/signin", "Change the CAPTCHA, lockout and throttling policy.", m.putSignInPolicy),
		perm(PermSecurityManage, http.MethodPut, "/api/v1/security/settings/session", "Change session timeouts and account inactivity.", m.putSessionPolicy),
		perm(PermSecurityManage, http.MethodPut, "/api/v1/security/settings/mfa", "Change who must use MFA.", m.putMFAPolicy),
		perm(PermSecurityManage, http.MethodGet, "/api/v1/security/allowlists", "The IP allowlists and the caller's address.", m.getAllowlists),
		perm(PermSecurityManage, http.MethodPut, "/api/v1/security/allowlists/tenant", "Replace the organisation's IP allowlist.", m.putTenantAllowlist),
		perm(PermSecurityManage, http.MethodPut, "/api/v1/security/allowlists/roles/:role", "Replace a role's IP allowlist.", m.putRoleAllowlist),

		pub(http.MethodGet, "/login", "Sign-in page.", false, m.loginPage),
		pub(http.MethodPost, "/login", "Sign-in form.", false, m.loginSubmit),
		pub(http.MethodGet, "/invite", "Invitation page: choose a password.", false, m.invitePage),
		pub(http.MethodPost, "/invite", "Accept an invitation.", false, m.inviteSubmit),
		auth(http.MethodPost, "/logout", "Sign out.", false, m.logoutSubmit),
		auth(http.MethodGet, "/account", "Account page: last sign-in, sessions, MFA.", false, m.accountPage),
		auth(http.MethodPost, "/account/sessions/:id/revoke", "End one of the caller's sessions.", false, m.revokeSessionSubmit),
		auth(http.MethodGet, "/account/password", "Password change page.", false, m.passwordPage),
		auth(http.MethodPost, "/account/password", "Password change form.", false, m.passwordSubmit),
		auth(http.MethodGet, "/account/mfa", "Two-step verification page.", false, m.mfaPage),
		auth(http.MethodPost, "/account/mfa/enrolment", "Start two-step verification set-up.", false, m.mfaEnrolSubmit),
		auth(http.MethodPost, "/account/mfa/activation", "Finish two-step verification set-up.", false, m.mfaActivateSubmit),

		page(PermUserManage, http.MethodGet, "/users", "Users page: search, list and invite.", m.usersPage),
		page(PermUserManage, http.MethodPost, "/users/invitations", "Invite a user (form); the answer shows the one-time link.", m.inviteUserSubmit),
		page(PermUserManage, http.MethodGet, "/users/:id", "A user's page: details, roles, sessions and actions.", m.userPage),
		page(PermUserManage, http.MethodPost, "/users/:id/disable", "Disable a user (form).", m.disableSubmit),
		page(PermUserManage, http.MethodPost, "/users/:id/enable", "Re-enable a user (form).", m.enableSubmit),
		page(PermUserManage, http.MethodPost, "/users/:id/unlock", "End a user's lockout (form).", m.unlockSubmit),
		page(PermUserManage, http.MethodPost, "/users/:id/password-reset", "Reset a user's password (form); the answer shows the temporary one.", m.passwordResetSubmit),
		page(PermUserManage, http.MethodPost, "/users/:id/mfa-reset", "Remove a user's second factor (form).", m.mfaResetSubmit),
		page(PermUserManage, http.MethodPost, "/users/:id/sessions/:session/end", "End one of a user's sessions (form).", m.endSessionSubmit),
		page(PermRoleManage, http.MethodPost, "/users/:id/roles", "Grant a user a role tenant-wide or in a department (form).", m.grantSubmit),
		page(PermRoleManage, http.MethodPost, "/users/:id/roles/:assignment/delete", "Remove a user's role assignment (form).", m.revokeRoleSubmit),
		page(PermSecurityManage, http.MethodGet, "/security", "Security policy page: passwords, sign-in, sessions, MFA, IP allowlists.", m.securityPage),
		page(PermSecurityManage, http.MethodPost, "/security/password", "Change the password policy (form).", m.passwordPolicySubmit),
		page(PermSecurityManage, http.MethodPost, "/security/signin", "Change the lockout and CAPTCHA policy (form).", m.signInPolicySubmit),
		page(PermSecurityManage, http.MethodPost, "/security/session", "Change session timeouts (form).", m.sessionPolicySubmit),
		page(PermSecurityManage, http.MethodPost, "/security/mfa", "Change who must use MFA (form).", m.mfaPolicySubmit),
		page(PermSecurityManage, http.MethodPost, "/security/allowlists/tenant", "Replace the organisation's IP allowlist (form).", m.tenantAllowlistSubmit),
		page(PermSecurityManage, http.MethodPost, "/security/allowlists/roles/:role", "Replace a role's IP allowlist (form).", m.roleAllowlistSubmit),
	}
}

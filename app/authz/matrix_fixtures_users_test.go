package authz_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/policy/rbac"
)

// The console's user and security pages (app/account/accounthttp).
func init() {
	for k, v := range map[string]fixture{
		"GET /users": {build: get("/users"), status: http.StatusOK},
		"POST /users/invitations": {status: http.StatusCreated, build: func(w *world, _ *principal, _ target) request {
			return formRequest("/users/invitations", url.Values{"email": {w.name("invitee") + "@alpha.test"}, "role": {rbac.RoleAgent}})
		}},
		"GET /users/:id":                 {build: onUser("/users/%s", false), status: http.StatusOK, object: true},
		"POST /users/:id/disable":        {build: onFreshUserForm("/users/%s/disable", false), status: http.StatusSeeOther, object: true},
		"POST /users/:id/enable":         {build: onFreshUserForm("/users/%s/enable", true), status: http.StatusSeeOther, object: true},
		"POST /users/:id/unlock":         {build: onFreshUserForm("/users/%s/unlock", false), status: http.StatusSeeOther, object: true},
		"POST /users/:id/password-reset": {build: onFreshUserForm("/users/%s/password-reset", false), status: http.StatusOK, object: true},
		"POST /users/:id/mfa-reset":      {build: onFreshUserForm("/users/%s/mfa-reset", false), status: http.StatusSeeOther, object: true},
		// No session of a fresh user to end: the guard's decision, and 404 across tenants.
		"POST /users/:id/sessions/:session/end": {build: onFreshUserForm("/users/%s/sessions/00000000-0000-7000-8000-000000000000/end", false), object: true},
		"POST /users/:id/roles": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
			t, _ := w.tenantOf(tg)
			u := w.a.createBareUser(t.ID)
			return formRequest("/users/"+u.ID+"/roles", url.Values{"role": {rbac.RoleAgent}, "department_id": {w.D1}})
		}},
		"POST /users/:id/roles/:assignment/delete": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
			u, as := w.newAssignment(tg)
			return formRequest("/users/"+u.ID+"/roles/"+as.ID+"/delete", url.Values{"confirm": {"yes"}})
		}},
		"GET /security": {build: get("/security"), status: http.StatusOK},
		// The current profile's settings again, and the sign-in policy as it is: saved, unchanged.
		"POST /security/password": {build: form("/security/password", url.Values{"profile": {"pci-dss-4"}}), status: http.StatusSeeOther},
		"POST /security/signin":   {build: form("/security/signin", url.Values{}), status: http.StatusSeeOther},
		// Refused with a field error, without side effects: the sessions and MFA of the matrix's
		// principals stay as they are.
		"POST /security/session":                {build: form("/security/session", url.Values{"idle_timeout_minutes": {"soon"}})},
		"POST /security/mfa":                    {build: form("/security/mfa", url.Values{"grace_sign_ins": {"some"}})},
		"POST /security/allowlists/tenant":      {build: form("/security/allowlists/tenant", url.Values{"entries": {"not-an-address"}})},
		"POST /security/allowlists/roles/:role": {build: form("/security/allowlists/roles/agent", url.Values{"entries": {"not-an-address"}})},
	} {
		routeFixtures[k] = v
	}
}

// onFreshUserForm posts a confirmed form about a fresh user of the target's tenant, disabled
// first when the form re-enables.
func onFreshUserForm(pathFormat string, disabled bool) func(*world, *principal, target) request {
	return func(w *world, _ *principal, tg target) request {
		t, owner := w.tenantOf(tg)
		u := w.a.createBareUser(t.ID)
		if disabled {
			if err := w.a.Accounts.Disable(context.Background(), account.Actor{TenantID: t.ID, UserID: owner.ID, System: true}, u.ID); err != nil {
				w.a.t.Fatalf("disable: %v", err)
			}
		}
		return formRequest(strings.Replace(pathFormat, "%s", u.ID, 1), url.Values{"confirm": {"yes"}})
	}
}

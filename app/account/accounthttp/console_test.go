package accounthttp_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounthttp"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// authzRecorder keeps the authorization events (role grants and removals).
type authzRecorder struct {
	apptest.Recorder[authz.Event]
}

func (r *authzRecorder) find(action string) []authz.Event {
	return r.Filter(func(e authz.Event) bool { return e.Action == action })
}

// consoleWorld is a tenant with an owner and an agent, a department, and a second tenant with a
// user of its own.
type consoleWorld struct {
	a        *accounttest.App
	tn       tenant.Tenant
	authz    *authzRecorder
	owner    *accounttest.Client
	agent    account.User
	dept     string
	otherID  string
	otherDep string
}

func newConsoleWorld(t *testing.T, db *migrations.DB) *consoleWorld {
	t.Helper()
	rec := &authzRecorder{}
	a := accounttest.NewWith(t, db, nil, accounttest.Options{AuthzAuditor: rec})
	tn, _ := a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
	_, agent := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
	ctx := context.Background()
	d, err := a.Tenants.CreateDepartment(ctx, tn.ID, "Cards")
	if err != nil {
		t.Fatal(err)
	}
	other, otherUser := a.CreateUser("Other Bank", "someone@other.test", ownerPass, "owner", false)
	od, err := a.Tenants.CreateDepartment(ctx, other.ID, "Loans")
	if err != nil {
		t.Fatal(err)
	}
	owner := signedIn(t, a, tn, ownerEmail, ownerPass)
	return &consoleWorld{a: a, tn: tn, authz: rec, owner: owner, agent: agent, dept: d.ID, otherID: otherUser.ID, otherDep: od.ID}
}

// submit sends a console form the way a browser does: the CSRF token in the form, not a header.
func submit(t *testing.T, c *accounttest.Client, path string, v url.Values) *httptest.ResponseRecorder {
	t.Helper()
	token := c.CSRF
	c.CSRF = ""
	defer func() { c.CSRF = token }()
	v.Set("csrf_token", token)
	req := form(v)
	req.Path = path
	return c.DoRequest(req)
}

// wantPage checks a page's status and that it holds every want.
func wantPage(t *testing.T, what string, rec *httptest.ResponseRecorder, status int, want ...string) string {
	t.Helper()
	body := rec.Body.String()
	if rec.Code != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, rec.Code, status, body)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: page lacks %q", what, w)
		}
	}
	return body
}

// mainOf is a page's own content, without the console shell around it (which names the
// signed-in user).
func mainOf(page string) string {
	if i := strings.Index(page, "<main"); i >= 0 {
		page = page[i:]
	}
	if i := strings.Index(page, "</main>"); i >= 0 {
		page = page[:i]
	}
	return page
}

// wantRedirect checks a form's 303 to location.
func wantRedirect(t *testing.T, what string, rec *httptest.ResponseRecorder, location string) {
	t.Helper()
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != location {
		t.Fatalf("%s: %d to %q, want 303 to %q; body %s", what, rec.Code, rec.Header().Get("Location"), location, rec.Body.String())
	}
}

// TestUsersPage: the list shows every user with status, MFA, last sign-in and roles; search by
// name or e-mail and by status; only user.manage holders see it.
func TestUsersPage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newConsoleWorld(t, db)
		cases := []struct {
			name, query   string
			want, notWant []string
		}{
			{"everyone", "", []string{ownerEmail, agentEmail, "owner", "agent", `name="csrf_token"`, "never", "2 of 2 users"}, nil},
			{"by e-mail", "?q=AGENT", []string{agentEmail, "1 of 2 users"}, []string{ownerEmail}},
			{"by status", "?status=disabled", []string{"No user matches."}, []string{agentEmail}},
			{"unknown status is ignored", "?status=%3Cb%3E", []string{agentEmail, ownerEmail}, []string{"&lt;b&gt;"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				body := mainOf(wantPage(t, "users page", w.owner.Do(http.MethodGet, "/users"+tc.query, ""), http.StatusOK, tc.want...))
				for _, nw := range tc.notWant {
					if strings.Contains(body, nw) {
						t.Errorf("page shows %q", nw)
					}
				}
			})
		}
		t.Run("without user.manage", func(t *testing.T) {
			tn, _ := w.tn, error(nil)
			agent := signedIn(t, w.a, tn, agentEmail, agentPass)
			for _, path := range []string{"/users", "/users/" + w.agent.ID} {
				if rec := agent.Do(http.MethodGet, path, ""); rec.Code != http.StatusForbidden {
					t.Errorf("GET %s as agent: %d, want 403", path, rec.Code)
				}
			}
			if rec := submit(t, agent, "/users/invitations", url.Values{"email": {"x@acme.test"}, "role": {"agent"}}); rec.Code != http.StatusForbidden {
				t.Errorf("invite as agent: %d, want 403", rec.Code)
			}
		})
	})
}

var inviteLink = regexp.MustCompile(`value="(http[^"]*/invite\?token=[^"]+)"`)

// TestInviteForm: an invitation shows its one-time link on the answer only, audited; the same
// address twice creates one user; each refusal names its field.
func TestInviteForm(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newConsoleWorld(t, db)
		v := url.Values{"email": {"new@acme.test"}, "name": {"Nia New"}, "role": {"agent"}, "department_id": {w.dept}}
		rec := submit(t, w.owner, "/users/invitations", v)
		body := wantPage(t, "invitation", rec, http.StatusCreated, "Invitation ready", "Nia New", `data-copy="invite-link"`)
		if rec.Header().Get("Location") != "" || !inviteLink.MatchString(body) {
			t.Fatalf("invitation answer: location %q, link shown %v", rec.Header().Get("Location"), inviteLink.MatchString(body))
		}
		evs := w.a.Audit.Find(account.ActionUserCreate)
		if len(evs) != 1 || evs[0].Details["email"] != "new@acme.test" || evs[0].Details["department_id"] != w.dept {
			t.Fatalf("audit user.create = %+v", evs)
		}
		// The grant is the department's only.
		var invited account.UserView
		vs, _ := w.a.Accounts.Users(context.Background(), w.agent.TenantID)
		for _, u := range vs {
			if u.Email == "new@acme.test" {
				invited = u
			}
		}
		as, err := w.a.Authz.UserAssignments(context.Background(), w.agent.TenantID, invited.ID)
		if err != nil || len(as) != 1 || as[0].DepartmentID != w.dept || as[0].Role != "agent" {
			t.Fatalf("invited user's assignments = %+v (%v)", as, err)
		}
		if page := w.owner.Do(http.MethodGet, "/users", "").Body.String(); strings.Contains(page, "/invite?token=") {
			t.Error("the list shows an invitation link again")
		}

		t.Run("double submit", func(t *testing.T) {
			wantPage(t, "second invitation", submit(t, w.owner, "/users/invitations", v), http.StatusConflict,
				"already exists", "invite-email-error")
			vs, _ := w.a.Accounts.Users(context.Background(), w.agent.TenantID)
			n := 0
			for _, u := range vs {
				if u.Email == "new@acme.test" {
					n++
				}
			}
			if n != 1 || len(w.a.Audit.Find(account.ActionUserCreate)) != 1 {
				t.Errorf("users with the address = %d, creations audited = %d; want 1 and 1", n, len(w.a.Audit.Find(account.ActionUserCreate)))
			}
		})

		cases := []struct {
			name      string
			form      url.Values
			status    int
			errorID   string
			notEchoed string
		}{
			{"no e-mail", url.Values{"role": {"agent"}}, http.StatusUnprocessableEntity, "invite-email-error", ""},
			{"bad e-mail", url.Values{"email": {"not an address"}, "role": {"agent"}}, http.StatusUnprocessableEntity, "invite-email-error", ""},
			{"unknown role", url.Values{"email": {"r@acme.test"}, "role": {"wizard"}}, http.StatusUnprocessableEntity, "invite-role-error", ""},
			{"another tenant's department", url.Values{"email": {"d@acme.test"}, "role": {"agent"}, "department_id": {w.otherDep}},
				http.StatusUnprocessableEntity, "invite-department-error", ""},
			{"card number as name", url.Values{"email": {"c@acme.test"}, "name": {"4111 1111 1111 1111"}, "role": {"agent"}},
				http.StatusUnprocessableEntity, "invite-name-error", "4111 1111 1111 1111"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				body := wantPage(t, tc.name, submit(t, w.owner, "/users/invitations", tc.form), tc.status, tc.errorID, `aria-invalid="true"`)
				if tc.notEchoed != "" && strings.Contains(body, tc.notEchoed) {
					t.Errorf("the page shows %q back", tc.notEchoed)
				}
			})
		}
		if n := len(w.a.Audit.Find(account.ActionUserCreate)); n != 1 {
			t.Errorf("creations audited = %d after refusals, want 1", n)
		}
	})
}

var assignmentForm = regexp.MustCompile(`/roles/([0-9a-f-]+)/delete`)

// TestUserPage: a user's page and each of its forms: success audited, confirmation required
// for destructive ones, another tenant's user not found.
func TestUserPage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newConsoleWorld(t, db)
		tn, _ := w.tn, error(nil)
		agentClient := signedIn(t, w.a, tn, agentEmail, agentPass)
		base := "/users/" + w.agent.ID
		wantPage(t, "user page", w.owner.Do(http.MethodGet, base, ""), http.StatusOK,
			agentEmail, "<code>"+w.agent.ID+"</code>", "Active sessions", "End session", "Grant a role", "Reset password")

		t.Run("another tenant's user", func(t *testing.T) {
			other := "/users/" + w.otherID
			if rec := w.owner.Do(http.MethodGet, other, ""); rec.Code != http.StatusNotFound {
				t.Errorf("GET: %d, want 404", rec.Code)
			}
			for _, path := range []string{"/disable", "/enable", "/unlock", "/password-reset", "/mfa-reset", "/roles",
				"/sessions/00000000-0000-7000-8000-000000000000/end", "/roles/00000000-0000-7000-8000-000000000000/delete"} {
				rec := submit(t, w.owner, other+path, url.Values{"confirm": {"yes"}, "role": {"agent"}})
				if rec.Code != http.StatusNotFound {
					t.Errorf("POST %s: %d, want 404", path, rec.Code)
				}
			}
		})

		t.Run("end a session", func(t *testing.T) {
			body := w.owner.Do(http.MethodGet, base, "").Body.String()
			m := regexp.MustCompile(`/sessions/([0-9a-f-]+)/end`).FindStringSubmatch(body)
			if m == nil {
				t.Fatal("no session to end on the page")
			}
			wantPage(t, "unconfirmed", submit(t, w.owner, base+"/sessions/"+m[1]+"/end", url.Values{}), http.StatusUnprocessableEntity, "Tick the box to confirm.")
			wantRedirect(t, "end", submit(t, w.owner, base+"/sessions/"+m[1]+"/end", url.Values{"confirm": {"yes"}}), base+"?notice=session_ended")
			if n := len(w.a.Audit.Find(account.ActionSessionRevoke)); n != 1 {
				t.Errorf("session revocations audited = %d, want 1", n)
			}
			if rec := agentClient.Do(http.MethodGet, "/api/v1/account", ""); rec.Code != http.StatusUnauthorized {
				t.Errorf("the ended session still works: %d", rec.Code)
			}
		})

		actions := []struct {
			name, path  string
			destructive bool
			action      string
			notice      string
		}{
			{"disable", "/disable", true, account.ActionUserDisable, "user_disabled"},
			{"enable", "/enable", false, account.ActionUserEnable, "user_enabled"},
			{"unlock", "/unlock", false, account.ActionUnlock, "user_unlocked"},
			{"reset two-step verification", "/mfa-reset", true, account.ActionMFAReset, "mfa_reset"},
		}
		for _, tc := range actions {
			t.Run(tc.name, func(t *testing.T) {
				if tc.destructive {
					wantPage(t, "unconfirmed", submit(t, w.owner, base+tc.path, url.Values{}), http.StatusUnprocessableEntity, "Tick the box to confirm.")
					if n := len(w.a.Audit.Find(tc.action)); n != 0 {
						t.Fatalf("unconfirmed %s audited %d times", tc.name, n)
					}
				}
				wantRedirect(t, tc.name, submit(t, w.owner, base+tc.path, url.Values{"confirm": {"yes"}}), base+"?notice="+tc.notice)
				if n := len(w.a.Audit.Find(tc.action)); n != 1 {
					t.Errorf("%s audited %d times, want 1", tc.action, n)
				}
				wantPage(t, "notice", w.owner.Do(http.MethodGet, base+"?notice="+tc.notice, ""), http.StatusOK, `role="status"`)
			})
		}
		t.Run("enable an active user", func(t *testing.T) {
			wantPage(t, "enable twice", submit(t, w.owner, base+"/enable", url.Values{}), http.StatusConflict, "does not allow this")
		})
		t.Run("disable yourself", func(t *testing.T) {
			me := w.owner.Do(http.MethodGet, "/api/v1/account", "")
			id := decode[accounthttp.UserBody](t, me).ID
			wantPage(t, "self", submit(t, w.owner, "/users/"+id+"/disable", url.Values{"confirm": {"yes"}}), http.StatusConflict, "your own account")
		})

		t.Run("reset password", func(t *testing.T) {
			wantPage(t, "unconfirmed", submit(t, w.owner, base+"/password-reset", url.Values{}), http.StatusUnprocessableEntity, "Tick the box to confirm.")
			rec := submit(t, w.owner, base+"/password-reset", url.Values{"confirm": {"yes"}})
			body := wantPage(t, "reset", rec, http.StatusOK, "Temporary password", `data-copy="temporary-password"`)
			m := regexp.MustCompile(`id="temporary-password"[^>]*value="([^"]+)"`).FindStringSubmatch(body)
			if m == nil || rec.Header().Get("Location") != "" {
				t.Fatal("the temporary password is not on the answer")
			}
			m[1] = html.UnescapeString(m[1])
			if n := len(w.a.Audit.Find(account.ActionPasswordReset)); n != 1 {
				t.Errorf("password resets audited = %d, want 1", n)
			}
			// The temporary password is right, and must be changed first.
			wantError(t, w.a.Client(clientAddr).Login(tn.Slug, agentEmail, m[1], nil), http.StatusForbidden, "password_change_required")
			if strings.Contains(w.owner.Do(http.MethodGet, base, "").Body.String(), m[1]) {
				t.Error("the user page shows the temporary password again")
			}
		})

		t.Run("grant and remove a role", func(t *testing.T) {
			grant := url.Values{"role": {"supervisor"}, "department_id": {w.dept}}
			wantRedirect(t, "grant", submit(t, w.owner, base+"/roles", grant), base+"?notice=role_granted")
			if evs := w.authz.find(authz.ActionRoleAssign); len(evs) != 1 || evs[0].Details["department_id"] != w.dept {
				t.Fatalf("role.assign audited = %+v", evs)
			}
			wantPage(t, "grant twice", submit(t, w.owner, base+"/roles", grant), http.StatusConflict, "already holds")
			wantPage(t, "unknown role", submit(t, w.owner, base+"/roles", url.Values{"role": {"wizard"}}), http.StatusUnprocessableEntity, "grant-role-error")
			wantPage(t, "another tenant's department", submit(t, w.owner, base+"/roles", url.Values{"role": {"agent"}, "department_id": {w.otherDep}}),
				http.StatusNotFound, "grant-department-error")
			body := wantPage(t, "user page", w.owner.Do(http.MethodGet, base, ""), http.StatusOK, "Cards", "supervisor")
			var supervisorAssignment string
			for _, m := range assignmentForm.FindAllStringSubmatch(body, -1) {
				as, _ := w.a.Authz.UserAssignments(context.Background(), w.agent.TenantID, w.agent.ID)
				for _, a := range as {
					if a.ID == m[1] && a.Role == "supervisor" {
						supervisorAssignment = a.ID
					}
				}
			}
			if supervisorAssignment == "" {
				t.Fatal("no remove form for the granted role")
			}
			path := base + "/roles/" + supervisorAssignment + "/delete"
			wantPage(t, "unconfirmed", submit(t, w.owner, path, url.Values{}), http.StatusUnprocessableEntity, "Tick the box to confirm.")
			wantRedirect(t, "remove", submit(t, w.owner, path, url.Values{"confirm": {"yes"}}), base+"?notice=role_removed")
			if n := len(w.authz.find(authz.ActionRoleUnassign)); n != 1 {
				t.Errorf("role.unassign audited %d times, want 1", n)
			}
			if rec := submit(t, w.owner, path, url.Values{"confirm": {"yes"}}); rec.Code != http.StatusNotFound {
				t.Errorf("remove twice: %d, want 404", rec.Code)
			}
		})

		t.Run("escalation guards stay", func(t *testing.T) {
			_, admin := w.a.CreateUser("Acme Bank", "admin@acme.test", ownerPass, "admin", false)
			_ = admin
			adminClient := signedIn(t, w.a, tn, "admin@acme.test", ownerPass)
			me := decode[accounthttp.UserBody](t, w.owner.Do(http.MethodGet, "/api/v1/account", ""))
			wantPage(t, "admin disables the owner", submit(t, adminClient, "/users/"+me.ID+"/disable", url.Values{"confirm": {"yes"}}),
				http.StatusForbidden, "You do not have permission")
			wantPage(t, "admin grants owner", submit(t, adminClient, base+"/roles", url.Values{"role": {"owner"}}),
				http.StatusForbidden, "You cannot grant")
		})
	})
}

// TestSecurityPage: every section of the security policy saves through its own form, audited;
// refusals name their fields; the allowlist asks before shutting out the caller's address.
func TestSecurityPage(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newConsoleWorld(t, db)
		wantPage(t, "security page", w.owner.Do(http.MethodGet, "/security", ""), http.StatusOK,
			`action="/security/password"`, `action="/security/signin"`, `action="/security/session"`, `action="/security/mfa"`,
			`action="/security/allowlists/tenant"`, `action="/security/allowlists/roles/agent"`, "198.51.100.7")

		st := decode[accounthttp.SettingsBody](t, w.owner.Do(http.MethodGet, "/api/v1/security/settings", ""))
		pw := func(minLength int) url.Values {
			p := st.Password
			v := url.Values{"settings": {"1"}, "profile": {p.Profile}, "min_length": {strconv.Itoa(minLength)},
				"min_length_with_mfa": {strconv.Itoa(p.MinLengthWithMFA)}, "max_length": {strconv.Itoa(p.MaxLength)},
				"expiry_days": {strconv.Itoa(p.ExpiryDays)}, "min_age_days": {strconv.Itoa(p.MinAgeDays)},
				"history_depth": {strconv.Itoa(p.HistoryDepth)}, "max_resets_per_day": {strconv.Itoa(p.MaxResetsPerDay)}}
			for k, on := range map[string]bool{"require_upper": p.RequireUpper, "require_lower": p.RequireLower, "require_digit": p.RequireDigit,
				"require_special": p.RequireSpecial, "require_letter_and_digit": p.RequireLetterAndDigit, "ban_common": p.BanCommon,
				"ban_personal": p.BanPersonal, "expiry_waived_with_mfa": p.ExpiryWaivedWithMFA} {
				if on {
					v.Set(k, "on")
				}
			}
			return v
		}
		cases := []struct {
			name, path string
			form       url.Values
			status     int
			want       []string
		}{
			{"password below the PCI floor", "/security/password", pw(8), http.StatusUnprocessableEntity,
				[]string{"password-min-length-error", "at least 12 characters", `value="8"`}},
			{"password length not a number", "/security/password", func() url.Values { v := pw(14); v.Set("history_depth", "many"); return v }(),
				http.StatusUnprocessableEntity, []string{"password-history-depth-error", "Enter a whole number."}},
			{"unknown profile", "/security/password", url.Values{"profile": {"lax"}}, http.StatusUnprocessableEntity, []string{"Choose one of"}},
			{"password saved", "/security/password", pw(14), http.StatusSeeOther, nil},
			{"profile applied", "/security/password", url.Values{"profile": {"nist-800-63b"}}, http.StatusSeeOther, nil},
			{"lockout not a number", "/security/signin", url.Values{"lockout_threshold": {"ten"}}, http.StatusUnprocessableEntity,
				[]string{"signin-lockout-threshold-error"}},
			{"lockout too short", "/security/signin", url.Values{"lockout_minutes": {"0"}}, http.StatusUnprocessableEntity,
				[]string{"signin-lockout-minutes-error"}},
			{"sign-in saved", "/security/signin", url.Values{"lockout_threshold": {"6"}, "captcha_after": {"2"}}, http.StatusSeeOther, nil},
			{"session too long for PCI", "/security/session", url.Values{"idle_timeout_minutes": {"60"}, "pci": {"on"}},
				http.StatusUnprocessableEntity, []string{"session-idle-timeout-minutes-error"}},
			{"session saved", "/security/session", url.Values{"idle_timeout_minutes": {"10"}, "absolute_timeout_minutes": {"600"}, "pci": {"on"}},
				http.StatusSeeOther, nil},
			{"MFA for an unknown role", "/security/mfa", url.Values{"required_roles": {"wizard"}, "grace_sign_ins": {"2"}},
				http.StatusUnprocessableEntity, []string{"field-error"}},
			{"MFA saved", "/security/mfa", url.Values{"required_roles": {"admin", "owner"}, "grace_sign_ins": {"2"}}, http.StatusSeeOther, nil},
			{"allowlist with a bad entry", "/security/allowlists/roles/agent", url.Values{"entries": {"198.51.100.0/24\nnot-an-ip"}},
				http.StatusUnprocessableEntity, []string{"allowlist_agent-entries-error", "not-an-ip"}},
			{"role allowlist saved", "/security/allowlists/roles/agent", url.Values{"entries": {"198.51.100.0/24, 2001:db8::/32"}}, http.StatusSeeOther, nil},
			{"allowlist shutting out the caller", "/security/allowlists/tenant", url.Values{"entries": {"203.0.113.0/24"}}, http.StatusConflict,
				[]string{"allowlist-entries-error", "shut out your own address 198.51.100.7", `name="confirm_self_exclusion"`, "203.0.113.0/24"}},
			{"allowlist including the caller", "/security/allowlists/tenant", url.Values{"entries": {"198.51.100.0/24"}}, http.StatusSeeOther, nil},
			{"allowlist removed", "/security/allowlists/tenant", url.Values{"entries": {""}}, http.StatusSeeOther, nil},
		}
		saved := 0
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := len(w.a.Audit.Events())
				rec := submit(t, w.owner, tc.path, tc.form)
				if tc.status == http.StatusSeeOther {
					if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/security?notice=") {
						t.Fatalf("status %d to %q; body %s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
					}
					saved++
					if n := len(w.a.Audit.Events()) - before; n != 1 {
						t.Errorf("events audited = %d, want 1", n)
					}
					return
				}
				wantPage(t, tc.name, rec, tc.status, tc.want...)
				if n := len(w.a.Audit.Events()) - before; n != 0 {
					t.Errorf("a refused form audited %d events", n)
				}
			})
		}
		after := decode[accounthttp.SettingsBody](t, w.owner.Do(http.MethodGet, "/api/v1/security/settings", ""))
		if after.Password.Profile != "nist-800-63b" || after.SignIn.LockoutThreshold != 6 || after.Session.IdleTimeoutMinutes != 10 ||
			strings.Join(after.MFA.RequiredRoles, ",") != "admin,owner" || after.MFA.GraceSignIns != 2 {
			t.Errorf("settings after the forms = %+v", after)
		}
		wantPage(t, "security page with a list", w.owner.Do(http.MethodGet, "/security", ""), http.StatusOK, "by "+ownerEmail, "198.51.100.0/24")
		lists := decode[accounthttp.AllowlistsBody](t, w.owner.Do(http.MethodGet, "/api/v1/security/allowlists", ""))
		if len(lists.Lists) != 1 || lists.Lists[0].Role != "agent" || len(lists.Lists[0].Entries) != 2 {
			t.Errorf("allowlists = %+v, want the agent's only", lists.Lists)
		}
		for _, e := range w.a.Audit.Find(account.ActionAllowlistChange) {
			if e.Details["self_exclusion_confirmed"] != "" {
				t.Errorf("self exclusion recorded without confirmation: %+v", e)
			}
		}

		t.Run("without security.manage", func(t *testing.T) {
			tn, _ := w.tn, error(nil)
			agent := w.a.Client("198.51.100.8:1000")
			rec := agent.Login(tn.Slug, agentEmail, agentPass, nil)
			agent.CSRF = decode[struct {
				CSRFToken string `json:"csrf_token"`
			}](t, rec).CSRFToken
			if rec := agent.Do(http.MethodGet, "/security", ""); rec.Code != http.StatusForbidden {
				t.Errorf("GET /security as agent: %d, want 403", rec.Code)
			}
			if rec := submit(t, agent, "/security/password", pw(14)); rec.Code != http.StatusForbidden {
				t.Errorf("POST /security/password as agent: %d, want 403", rec.Code)
			}
		})
		t.Run("confirmed self exclusion", func(t *testing.T) {
			// The same administrator, now connecting from another address.
			other := w.owner
			other.RemoteAddr = "203.0.113.50:4000"
			defer func() { other.RemoteAddr = clientAddr }()
			wantPage(t, "unconfirmed", submit(t, other, "/security/allowlists/tenant", url.Values{"entries": {"192.0.2.0/24"}}),
				http.StatusConflict, "203.0.113.50")
			rec := submit(t, other, "/security/allowlists/tenant", url.Values{"entries": {"192.0.2.0/24"}, "confirm_self_exclusion": {"yes"}})
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("confirmed: %d %s", rec.Code, rec.Body.String())
			}
			evs := w.a.Audit.Find(account.ActionAllowlistChange)
			if last := evs[len(evs)-1]; last.Details["self_exclusion_confirmed"] != "true" {
				t.Errorf("last allowlist change = %+v, want the confirmation recorded", last)
			}
		})

	})
}

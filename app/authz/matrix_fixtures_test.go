package authz_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/app/redaction"
	"github.com/parleyhq/parley/compliance/redact"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/rbac"
)

// routeFixtures tells the authorization matrix how to call each authenticated route of
// Parley's route table. Every authenticated route needs an entry: a route added without one
// fails TestAuthorizationMatrix. Build requests that succeed for whoever may use the route (give
// status), or, for routes whose bodies belong to another domain's tests, a request the handler
// refuses without side effects (status 0: the matrix then checks the guard's decision only).
var routeFixtures = map[string]fixture{
	// Session only: every signed-in user.
	"GET /api/v1/auth/session":                    {build: get("/api/v1/auth/session"), status: http.StatusOK},
	"POST /api/v1/auth/logout":                    {build: get("/api/v1/auth/logout"), endsSession: true},
	"GET /api/v1/account":                         {build: get("/api/v1/account"), status: http.StatusOK},
	"POST /api/v1/account/password":               {build: withBody("/api/v1/account/password", "[]")},
	"GET /api/v1/account/sessions":                {build: get("/api/v1/account/sessions"), status: http.StatusOK},
	"DELETE /api/v1/account/sessions/:id":         {build: get("/api/v1/account/sessions/00000000-0000-7000-8000-000000000000")},
	"POST /api/v1/account/mfa/enrolment":          {build: withBody("/api/v1/account/mfa/enrolment", "[]")},
	"POST /api/v1/account/mfa/activation":         {build: withBody("/api/v1/account/mfa/activation", "[]")},
	"POST /api/v1/account/mfa/recovery-codes":     {build: withBody("/api/v1/account/mfa/recovery-codes", "[]")},
	"POST /logout":                                {build: get("/logout"), endsSession: true},
	"GET /account":                                {build: get("/account")},
	"GET /start":                                  {build: get("/start")},
	"POST /account/sessions/:id/revoke":           {build: get("/account/sessions/00000000-0000-7000-8000-000000000000/revoke")},
	"GET /account/password":                       {build: get("/account/password")},
	"POST /account/password":                      {build: form("/account/password", url.Values{})},
	"GET /account/mfa":                            {build: get("/account/mfa")},
	"POST /account/mfa/enrolment":                 {build: form("/account/mfa/enrolment", url.Values{"step": {"none"}})},
	"POST /account/mfa/activation":                {build: form("/account/mfa/activation", url.Values{})},
	"GET /api/v1/users":                           {build: get("/api/v1/users"), status: http.StatusOK},
	"POST /api/v1/users/invitations":              {build: withBody("/api/v1/users/invitations", "[]")},
	"GET /api/v1/users/:id":                       {build: onUser("/api/v1/users/%s", false), status: http.StatusOK, object: true},
	"POST /api/v1/users/:id/unlock":               {build: onUser("/api/v1/users/%s/unlock", true), object: true},
	"POST /api/v1/users/:id/disable":              {build: onUser("/api/v1/users/%s/disable", true), object: true},
	"POST /api/v1/users/:id/enable":               {build: onUser("/api/v1/users/%s/enable", true), object: true},
	"POST /api/v1/users/:id/password-reset":       {build: onUser("/api/v1/users/%s/password-reset", true), object: true},
	"POST /api/v1/users/:id/mfa-reset":            {build: onUser("/api/v1/users/%s/mfa-reset", true), object: true},
	"GET /api/v1/users/:id/sessions":              {build: onUser("/api/v1/users/%s/sessions", false), status: http.StatusOK, object: true},
	"DELETE /api/v1/users/:id/sessions/:session":  {build: onUser("/api/v1/users/%s/sessions/00000000-0000-7000-8000-000000000000", true), object: true},
	"GET /api/v1/security/settings":               {build: get("/api/v1/security/settings"), status: http.StatusOK},
	"PUT /api/v1/security/settings/password":      {build: withBody("/api/v1/security/settings/password", "[]")},
	"PUT /api/v1/security/settings/signin":        {build: withBody("/api/v1/security/settings/signin", "[]")},
	"PUT /api/v1/security/settings/session":       {build: withBody("/api/v1/security/settings/session", "[]")},
	"PUT /api/v1/security/settings/mfa":           {build: withBody("/api/v1/security/settings/mfa", "[]")},
	"GET /api/v1/security/allowlists":             {build: get("/api/v1/security/allowlists"), status: http.StatusOK},
	"PUT /api/v1/security/allowlists/tenant":      {build: withBody("/api/v1/security/allowlists/tenant", "[]")},
	"PUT /api/v1/security/allowlists/roles/:role": {build: withBody("/api/v1/security/allowlists/roles/agent", "[]")},

	// The console shell (app/console).
	"GET /overview":      {build: get("/overview"), status: http.StatusOK},
	"POST /audit/verify": {build: form("/audit/verify", url.Values{}), status: http.StatusOK},

	// Chat and visitors (app/chat, app/visitor). Bodies belong to the chat's own tests: these
	// requests check the guard's decision (status 0) or read a list (200).
	"GET /api/v1/chat/agent/ws":                                 {build: get("/api/v1/chat/agent/ws")},
	"GET /api/v1/chat/bans":                                     {build: get("/api/v1/chat/bans"), status: http.StatusOK},
	"POST /api/v1/chat/bans":                                    {build: withBody("/api/v1/chat/bans", "[]")},
	"DELETE /api/v1/chat/bans/:ban":                             {build: get("/api/v1/chat/bans/00000000-0000-7000-8000-000000000000")},
	"GET /api/v1/chat/offline-messages":                         {build: get("/api/v1/chat/offline-messages"), status: http.StatusOK},
	"GET /api/v1/chat/departments/:department/offline-messages": {build: onDepartment("/api/v1/chat/departments/%s/offline-messages"), status: http.StatusOK},
	"GET /api/v1/chat/sites/:site/settings":                     {build: get("/api/v1/chat/sites/00000000-0000-7000-8000-000000000000/settings")},
	"PUT /api/v1/chat/sites/:site/settings":                     {build: withBody("/api/v1/chat/sites/00000000-0000-7000-8000-000000000000/settings", "[]")},
	"GET /api/v1/chat/conversations/:conversation/files/:file":  {build: onConversation("/api/v1/chat/conversations/%s/files/00000000-0000-7000-8000-000000000000", "")},
	"POST /api/v1/chat/conversations/:conversation/files":       {build: onConversation("/api/v1/chat/conversations/%s/files?name=a.txt", "hello")},
	"GET /api/v1/visitors":                                      {build: get("/api/v1/visitors"), status: http.StatusOK},
	"GET /api/v1/visitors/:visitor":                             {build: get("/api/v1/visitors/00000000-0000-7000-8000-000000000000")},
	"GET /api/v1/visitor-retention":                             {build: get("/api/v1/visitor-retention"), status: http.StatusOK},
	"PUT /api/v1/visitor-retention":                             {build: withBody("/api/v1/visitor-retention", "[]")},

	// Role editor and access review (this package).
	"GET /api/v1/permissions": {build: get("/api/v1/permissions"), status: http.StatusOK},
	"GET /api/v1/roles":       {build: get("/api/v1/roles"), status: http.StatusOK},
	"POST /api/v1/roles": {status: http.StatusCreated, build: func(w *world, _ *principal, _ target) request {
		return request{path: "/api/v1/roles", body: fmt.Sprintf(`{"name":%q,"permissions":["chat.accept"]}`, w.name("new"))}
	}},
	"GET /api/v1/roles/:role": {status: http.StatusOK, object: true, build: func(w *world, _ *principal, tg target) request {
		return request{path: "/api/v1/roles/" + map[bool]string{true: w.roleB, false: w.roleA}[tg == otherTenant]}
	}},
	"PUT /api/v1/roles/:role": {status: http.StatusOK, object: true, build: func(w *world, _ *principal, tg target) request {
		t, _ := w.tenantOf(tg)
		return request{path: "/api/v1/roles/" + w.newRole(t), body: `{"description":"Changed","permissions":["chat.accept","chat.end"]}`}
	}},
	"DELETE /api/v1/roles/:role": {status: http.StatusNoContent, object: true, build: func(w *world, _ *principal, tg target) request {
		t, _ := w.tenantOf(tg)
		return request{path: "/api/v1/roles/" + w.newRole(t)}
	}},
	"GET /api/v1/users/:id/roles": {build: onUser("/api/v1/users/%s/roles", false), status: http.StatusOK, object: true},
	"POST /api/v1/users/:id/roles": {status: http.StatusCreated, object: true, build: func(w *world, _ *principal, tg target) request {
		t, _ := w.tenantOf(tg)
		u := w.a.createBareUser(t.ID)
		return request{path: "/api/v1/users/" + u.ID + "/roles", body: fmt.Sprintf(`{"role":"agent","department_id":%q}`, w.D1)}
	}},
	"DELETE /api/v1/users/:id/roles/:assignment": {status: http.StatusNoContent, object: true, build: func(w *world, _ *principal, tg target) request {
		u, as := w.newAssignment(tg)
		return request{path: "/api/v1/users/" + u.ID + "/roles/" + as.ID}
	}},
	"GET /api/v1/users/:id/effective-permissions": {build: onUser("/api/v1/users/%s/effective-permissions", false), status: http.StatusOK, object: true},
	"GET /api/v1/access-review":                   {build: get("/api/v1/access-review"), status: http.StatusOK},
	"GET /api/v1/access-review/status":            {build: get("/api/v1/access-review/status"), status: http.StatusOK},
	"GET /api/v1/access-review/sign-offs":         {build: get("/api/v1/access-review/sign-offs"), status: http.StatusOK},
	"POST /api/v1/access-review/sign-offs": {status: http.StatusCreated, build: func(w *world, _ *principal, _ target) request {
		return request{path: "/api/v1/access-review/sign-offs", body: fmt.Sprintf(`{"report_digest":%q,"notes":"Matrix."}`, w.digest())}
	}},
	"GET /roles": {build: get("/roles"), status: http.StatusOK},
	"POST /roles": {status: http.StatusSeeOther, build: func(w *world, _ *principal, _ target) request {
		return formRequest("/roles", url.Values{"name": {w.name("form")}, "permissions": {"chat.accept"}})
	}},
	"POST /roles/:role": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
		t, _ := w.tenantOf(tg)
		return formRequest("/roles/"+w.newRole(t), url.Values{"description": {"Changed"}, "permissions": {"chat.accept", "chat.end"}})
	}},
	"POST /roles/:role/delete": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
		t, _ := w.tenantOf(tg)
		return formRequest("/roles/"+w.newRole(t)+"/delete", url.Values{})
	}},
	"POST /roles/users/:id/assignments": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
		t, _ := w.tenantOf(tg)
		u := w.a.createBareUser(t.ID)
		return formRequest("/roles/users/"+u.ID+"/assignments", url.Values{"role": {rbac.RoleAgent}, "department_id": {w.D1}})
	}},
	"POST /roles/users/:id/assignments/:assignment/delete": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
		u, as := w.newAssignment(tg)
		return formRequest("/roles/users/"+u.ID+"/assignments/"+as.ID+"/delete", url.Values{})
	}},
	"GET /access-review": {build: get("/access-review"), status: http.StatusOK},
	"POST /access-review": {status: http.StatusSeeOther, build: func(w *world, _ *principal, _ target) request {
		return formRequest("/access-review", url.Values{"report_digest": {w.digest()}})
	}},

	// Sites of the tenant (app/tenant/tenanthttp): a list, never another tenant's.
	"GET /api/v1/sites": {build: get("/api/v1/sites"), status: http.StatusOK},

	// Encryption key status (app/keysapi).
	"GET /api/v1/keys/status": {build: get("/api/v1/keys/status"), status: http.StatusOK},

	// Audit log (app/auditapi): every read is recorded before it is answered.
	"GET /api/v1/audit/events":      {build: get("/api/v1/audit/events"), status: http.StatusOK},
	"GET /api/v1/audit/events/:seq": {build: get("/api/v1/audit/events/999999")},
	"POST /api/v1/audit/verify":     {build: withBody("/api/v1/audit/verify", "{}"), status: http.StatusOK},
	"GET /api/v1/audit/export":      {build: get("/api/v1/audit/export"), status: http.StatusOK},
	"GET /api/v1/audit/keys":        {build: get("/api/v1/audit/keys"), status: http.StatusOK},
	"GET /api/v1/audit/status":      {build: get("/api/v1/audit/status"), status: http.StatusOK},
	"GET /audit":                    {build: get("/audit"), status: http.StatusOK},

	// Secure card form (app/cardform), on a conversation of the target's department that has no
	// agent yet: the guard's decision is what the matrix checks (the handlers then refuse: the
	// caller is not the chat's agent, the request does not exist), except the list, which answers.
	"POST /api/v1/chat/conversations/:conversation/card-forms":               {build: onConversation("/api/v1/chat/conversations/%s/card-forms", "")},
	"GET /api/v1/chat/conversations/:conversation/card-forms":                {build: onConversation("/api/v1/chat/conversations/%s/card-forms", ""), status: http.StatusOK},
	"GET /api/v1/chat/conversations/:conversation/card-forms/:request":       {build: onConversation("/api/v1/chat/conversations/%s/card-forms/00000000-0000-7000-8000-000000000000", "")},
	"GET /api/v1/chat/conversations/:conversation/card-forms/:request/full":  {build: onConversation("/api/v1/chat/conversations/%s/card-forms/00000000-0000-7000-8000-000000000000/full", "")},
	"POST /api/v1/chat/conversations/:conversation/card-forms/:request/done": {build: onConversation("/api/v1/chat/conversations/%s/card-forms/00000000-0000-7000-8000-000000000000/done", "")},

	// Redaction settings (app/redaction): the masking mode and redaction rules of the tenant.
	"GET /api/v1/redaction":               {build: get("/api/v1/redaction"), status: http.StatusOK},
	"PUT /api/v1/redaction/pan-mask-mode": {build: withBody("/api/v1/redaction/pan-mask-mode", `{"mode":"last4"}`), status: http.StatusOK},
	"PUT /api/v1/redaction/rules/:rule":   {build: withBody("/api/v1/redaction/rules/us_ssn", `{"replacement":"[SSN]","enabled":true}`), status: http.StatusOK},
	"POST /api/v1/redaction/try":          {build: withBody("/api/v1/redaction/try", `{"rule":{"name":"t","pattern":"x+"},"sample":"xx"}`), status: http.StatusOK},
	"GET /redaction":                      {build: get("/redaction"), status: http.StatusOK},
	"POST /redaction/try":                 {build: form("/redaction/try", url.Values{"pattern": {"x+"}, "sample": {"xx"}}), status: http.StatusOK},
	"POST /redaction/pan-mask-mode":       {build: form("/redaction/pan-mask-mode", url.Values{"mode": {"last4"}}), status: http.StatusSeeOther},
	"POST /redaction/rules/:rule":         {build: form("/redaction/rules/iban", url.Values{"replacement": {"[IBAN]"}}), status: http.StatusSeeOther},
	"POST /api/v1/redaction/rules": {status: http.StatusCreated, build: func(w *world, _ *principal, _ target) request {
		return request{path: "/api/v1/redaction/rules", body: fmt.Sprintf(`{"name":%q,"pattern":"x+","replacement":"-"}`, w.name("rule"))}
	}},
	"POST /redaction/rules": {status: http.StatusSeeOther, build: func(w *world, _ *principal, _ target) request {
		return formRequest("/redaction/rules", url.Values{"name": {w.name("form-rule")}, "pattern": {"x+"}})
	}},
	"DELETE /api/v1/redaction/rules/:rule": {status: http.StatusNoContent, object: true, build: func(w *world, _ *principal, tg target) request {
		return request{path: "/api/v1/redaction/rules/" + w.redactionRule(tg)}
	}},
	"POST /redaction/rules/:rule/delete": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
		return formRequest("/redaction/rules/"+w.redactionRule(tg)+"/delete", url.Values{})
	}},
}

// get requests path with the route's method and no body.
func get(path string) func(*world, *principal, target) request {
	return func(*world, *principal, target) request { return request{path: path} }
}

// withBody requests path with a JSON body.
func withBody(path, body string) func(*world, *principal, target) request {
	return func(*world, *principal, target) request { return request{path: path, body: body} }
}

// form requests path with a form body.
func form(path string, v url.Values) func(*world, *principal, target) request {
	return func(*world, *principal, target) request { return formRequest(path, v) }
}

func formRequest(path string, v url.Values) request {
	return request{path: path, body: v.Encode(), form: true}
}

// onUser requests pathFormat with a user of the target's tenant: a fresh one when the request
// changes it, the shared one otherwise.
func onUser(pathFormat string, fresh bool) func(*world, *principal, target) request {
	return func(w *world, _ *principal, tg target) request {
		id := w.user(tg).ID
		if fresh {
			t, _ := w.tenantOf(tg)
			id = w.a.createBareUser(t.ID).ID
		}
		return request{path: strings.Replace(pathFormat, "%s", id, 1)}
	}
}

// digest is the current access review report digest of tenant A.
func (w *world) digest() string {
	rep, err := w.a.AccessReviews.Report(context.Background(), w.A.ID)
	if err != nil {
		w.a.t.Fatalf("report: %v", err)
	}
	return rep.Digest
}

// redactionRule creates a redaction rule in the target's tenant and returns its id.
func (w *world) redactionRule(tg target) string {
	t, owner := w.tenantOf(tg)
	r, err := w.a.Redaction.Create(context.Background(), redaction.Actor{UserID: owner.ID}, t.ID,
		redact.Rule{Name: w.name("rule"), Pattern: "x+", Replacement: "-"})
	if err != nil {
		w.a.t.Fatalf("create redaction rule: %v", err)
	}
	return r.ID
}

// onDepartment requests a path naming the target's department.
func onDepartment(pathFormat string) func(*world, *principal, target) request {
	return func(w *world, _ *principal, tg target) request {
		return request{path: fmt.Sprintf(pathFormat, w.department(tg))}
	}
}

// onConversation requests a path naming a conversation queued in the target's department.
func onConversation(pathFormat, body string) func(*world, *principal, target) request {
	return func(w *world, _ *principal, tg target) request {
		return request{path: fmt.Sprintf(pathFormat, w.conversation(tg)), body: body}
	}
}

// onConversationForm requests a path naming a conversation queued in the target's department:
// a GET when v is nil, else a console form post of v.
func onConversationForm(pathFormat string, v url.Values) func(*world, *principal, target) request {
	return func(w *world, _ *principal, tg target) request {
		path := fmt.Sprintf(pathFormat, w.conversation(tg))
		if v == nil {
			return request{path: path}
		}
		return formRequest(path, v)
	}
}

// conversation returns a queued conversation in the target's department, creating the tenant's
// site and the conversation row the first time.
func (w *world) conversation(tg target) string {
	if id, ok := w.conversations[tg]; ok {
		return id
	}
	ctx := context.Background()
	t, _ := w.tenantOf(tg)
	site, err := w.a.Tenants.CreateSite(ctx, t.ID, w.name("site"), []string{"https://www.example.com"})
	if err != nil {
		w.a.t.Fatalf("site: %v", err)
	}
	id := fmt.Sprintf("00000000-0000-7000-8000-%012d", len(w.conversations)+1)
	now := w.a.Clock.Now().UTC()
	if err := migratetest.Beneath(w.a.t, w.a.DB).Gorm.Exec(`INSERT INTO conversations (id, tenant_id, site_id, department_id, visitor_id, status, queued_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?)`, id, t.ID, site.ID, w.department(tg), "matrix-visitor", now, now, now).Error; err != nil {
		w.a.t.Fatalf("conversation: %v", err)
	}
	if w.conversations == nil {
		w.conversations = map[target]string{}
	}
	w.conversations[tg] = id
	return id
}

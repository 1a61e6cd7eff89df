package authz_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/parleyhq/parley/app/api"
	"github.com/parleyhq/parley/app/canned"
	"github.com/parleyhq/parley/app/chat"
)

// Canned messages (app/canned/cannedhttp): canned.use, checked in the ?department= the request
// names. Requests that address a text use a personal one of the caller (the owner's in another
// tenant), which everyone holding canned.use may read, change and delete.
func init() {
	for k, v := range map[string]fixture{
		"GET /api/v1/canned": {status: http.StatusOK, build: onDepartment("/api/v1/canned?department=%s")},
		"POST /api/v1/canned": {status: http.StatusCreated, build: func(w *world, _ *principal, tg target) request {
			return request{path: "/api/v1/canned?department=" + w.department(tg),
				body: fmt.Sprintf(`{"scope":"personal","shortcut":%q,"title":"Hello","body":"Hello {visitor_name}"}`, w.name("s"))}
		}},
		"GET /api/v1/canned/:message": {status: http.StatusOK, object: true, build: onCanned("/api/v1/canned/%s?department=%s", "")},
		"PUT /api/v1/canned/:message": {status: http.StatusOK, object: true,
			build: func(w *world, p *principal, tg target) request {
				r := onCanned("/api/v1/canned/%s?department=%s", "")(w, p, tg)
				r.body = fmt.Sprintf(`{"shortcut":%q,"title":"Changed","body":"Changed"}`, w.name("c"))
				return r
			}},
		"DELETE /api/v1/canned/:message": {status: http.StatusNoContent, object: true, build: onCanned("/api/v1/canned/%s?department=%s", "")},
		"GET /canned":                    {status: http.StatusOK, build: onDepartment("/canned?department=%s")},
		"POST /canned": {status: http.StatusSeeOther, build: func(w *world, _ *principal, tg target) request {
			return formRequest("/canned?department="+w.department(tg), url.Values{"scope": {"personal"}, "shortcut": {w.name("f")}, "title": {"Hi"}, "body": {"Hi"}})
		}},
		"GET /canned/:message": {status: http.StatusOK, object: true, build: onCanned("/canned/%s?department=%s", "")},
		"POST /canned/:message": {status: http.StatusSeeOther, object: true, build: func(w *world, p *principal, tg target) request {
			r := onCanned("/canned/%s?department=%s", "")(w, p, tg)
			return formRequest(r.path, url.Values{"shortcut": {w.name("c")}, "title": {"Changed"}, "body": {"Changed"}})
		}},
		"POST /canned/:message/delete": {status: http.StatusSeeOther, object: true, build: func(w *world, p *principal, tg target) request {
			r := onCanned("/canned/%s/delete?department=%s", "")(w, p, tg)
			return formRequest(r.path, url.Values{})
		}},

		// The offline-message inbox (app/chat/chathttp): offline.view.department to read,
		// offline.reply to mark handled, checked in the ?department= the request names; each
		// request that addresses a message gets a fresh one of the target's department.
		"GET /offline":          {status: http.StatusOK, build: onDepartment("/offline?department=%s")},
		"GET /offline/:message": {status: http.StatusOK, object: true, build: onOffline("/offline/%s?department=%s")},
		"POST /offline/:message/handled": {status: http.StatusSeeOther, object: true, build: func(w *world, p *principal, tg target) request {
			r := onOffline("/offline/%s/handled?department=%s")(w, p, tg)
			return formRequest(r.path, url.Values{"note": {"Answered by phone."}})
		}},
	} {
		routeFixtures[k] = v
	}
}

// onOffline requests pathFormat (message id, department) with a fresh offline message left for
// the target's department.
func onOffline(pathFormat string) func(*world, *principal, target) request {
	return func(w *world, _ *principal, tg target) request {
		ctx := context.Background()
		t, _ := w.tenantOf(tg)
		site, err := w.a.Tenants.Site(ctx, t.ID, w.site(tg))
		if err != nil {
			w.a.t.Fatalf("site: %v", err)
		}
		n := w.seq
		id, err := w.a.Chat.LeaveOffline(ctx, site, w.name("visitor"), fmt.Sprintf("10.%d.%d.1", n/256%256, n%256),
			chat.OfflineInput{Name: "Matrix", Email: "matrix@example.com", DepartmentID: w.department(tg), Message: "Please call."})
		if err != nil {
			w.a.t.Fatalf("offline message: %v", err)
		}
		return request{path: fmt.Sprintf(pathFormat, id, w.department(tg))}
	}
}

// onCanned requests pathFormat (text id, department) with a fresh personal canned message of the
// principal in the target's tenant (of that tenant's owner in another tenant), naming the
// target's department.
func onCanned(pathFormat, body string) func(*world, *principal, target) request {
	return func(w *world, p *principal, tg target) request {
		t, owner := w.tenantOf(tg)
		userID := owner.ID
		if tg != otherTenant && p.c.UserID != "" {
			userID = p.c.UserID
		}
		m, err := w.a.Canned.Create(context.Background(), &api.Principal{TenantID: t.ID, UserID: userID},
			canned.Input{Scope: canned.ScopePersonal, Shortcut: w.name("m"), Title: "Matrix", Body: "Matrix"}, canned.Origin{})
		if err != nil {
			// A principal without canned.use cannot own one: address the owner's instead (the
			// guard refuses the request before the text matters).
			if m, err = w.a.Canned.Create(context.Background(), &api.Principal{TenantID: t.ID, UserID: owner.ID},
				canned.Input{Scope: canned.ScopePersonal, Shortcut: w.name("m"), Title: "Matrix", Body: "Matrix"}, canned.Origin{}); err != nil {
				w.a.t.Fatalf("canned message: %v", err)
			}
		}
		return request{path: fmt.Sprintf(pathFormat, m.ID, w.department(tg)), body: body}
	}
}

package authz_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Sites and departments (app/tenant/tenanthttp): site.manage, tenant-wide. Requests that change
// an object make a fresh one in the target's tenant, so the shared departments stay as they are.
func init() {
	for k, v := range map[string]fixture{
		"POST /api/v1/sites": {status: http.StatusCreated, build: func(w *world, _ *principal, _ target) request {
			return request{path: "/api/v1/sites", body: fmt.Sprintf(`{"name":%q,"allowed_origins":["https://www.example.com"]}`, w.name("site"))}
		}},
		"GET /api/v1/sites/:site":          {status: http.StatusOK, object: true, build: onSite("/api/v1/sites/%s", "")},
		"PUT /api/v1/sites/:site":          {status: http.StatusOK, object: true, build: onSite("/api/v1/sites/%s", `{"name":"%s","allowed_origins":["https://www.example.com"]}`)},
		"POST /api/v1/sites/:site/disable": {status: http.StatusOK, object: true, build: onSite("/api/v1/sites/%s/disable", "")},
		"POST /api/v1/sites/:site/enable":  {status: http.StatusOK, object: true, build: onSite("/api/v1/sites/%s/enable", "")},
		"GET /api/v1/departments":          {status: http.StatusOK, build: get("/api/v1/departments")},
		"POST /api/v1/departments": {status: http.StatusCreated, build: func(w *world, _ *principal, _ target) request {
			return request{path: "/api/v1/departments", body: fmt.Sprintf(`{"name":%q,"queue_timeout_seconds":120}`, w.name("dept"))}
		}},
		"GET /api/v1/departments/:department":         {status: http.StatusOK, object: true, build: onDepartment("/api/v1/departments/%s")},
		"GET /api/v1/departments/:department/members": {status: http.StatusOK, object: true, build: onDepartment("/api/v1/departments/%s/members")},
		"PUT /api/v1/departments/:department": {status: http.StatusOK, object: true, build: func(w *world, _ *principal, tg target) request {
			return request{path: "/api/v1/departments/" + w.freshDepartment(tg), body: fmt.Sprintf(`{"name":%q}`, w.name("renamed"))}
		}},
		"DELETE /api/v1/departments/:department": {status: http.StatusNoContent, object: true, build: func(w *world, _ *principal, tg target) request {
			return request{path: "/api/v1/departments/" + w.freshDepartment(tg)}
		}},

		"GET /sites": {status: http.StatusOK, build: get("/sites")},
		"POST /sites": {status: http.StatusSeeOther, build: func(w *world, _ *principal, _ target) request {
			return formRequest("/sites", url.Values{"name": {w.name("form-site")}, "allowed_origins": {"https://www.example.com"}})
		}},
		"GET /sites/:site": {status: http.StatusOK, object: true, build: onSite("/sites/%s", "")},
		"POST /sites/:site": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
			return formRequest("/sites/"+w.site(tg), url.Values{"name": {w.name("renamed-site")}, "allowed_origins": {"https://www.example.com"}})
		}},
		"POST /sites/:site/disable": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
			return formRequest("/sites/"+w.site(tg)+"/disable", url.Values{"confirm": {"yes"}})
		}},
		"POST /sites/:site/enable": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
			return formRequest("/sites/"+w.site(tg)+"/enable", url.Values{})
		}},
		"POST /sites/:site/settings": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
			return formRequest("/sites/"+w.site(tg)+"/settings", url.Values{"cookie_mode": {"session"}, "default_language": {"en"},
				"color": {"#1d4ed8"}, "position": {"right"}, "file_max_bytes": {"1048576"}, "queue_timeout_seconds": {"300"}})
		}},
		"GET /departments": {status: http.StatusOK, build: get("/departments")},
		"POST /departments": {status: http.StatusSeeOther, build: func(w *world, _ *principal, _ target) request {
			return formRequest("/departments", url.Values{"name": {w.name("form-dept")}})
		}},
		"GET /departments/:department": {status: http.StatusOK, object: true, build: onDepartment("/departments/%s")},
		"POST /departments/:department": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
			return formRequest("/departments/"+w.freshDepartment(tg), url.Values{"name": {w.name("form-renamed")}, "queue_timeout_seconds": {"60"}})
		}},
		"POST /departments/:department/delete": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
			return formRequest("/departments/"+w.freshDepartment(tg)+"/delete", url.Values{"confirm": {"yes"}})
		}},
	} {
		routeFixtures[k] = v
	}
}

// onSite requests pathFormat with a fresh site of the target's tenant; a body format gets a
// fresh name.
func onSite(pathFormat, bodyFormat string) func(*world, *principal, target) request {
	return func(w *world, _ *principal, tg target) request {
		r := request{path: fmt.Sprintf(pathFormat, w.site(tg))}
		if bodyFormat != "" {
			r.body = fmt.Sprintf(bodyFormat, w.name("renamed-site"))
		}
		return r
	}
}

// site creates a site in the target's tenant and returns its id.
func (w *world) site(tg target) string {
	t, _ := w.tenantOf(tg)
	s, err := w.a.Tenants.CreateSite(context.Background(), t.ID, w.name("matrix-site"), []string{"https://www.example.com"})
	if err != nil {
		w.a.t.Fatalf("create site: %v", err)
	}
	return s.ID
}

// freshDepartment creates a department in the target's tenant and returns its id.
func (w *world) freshDepartment(tg target) string {
	t, _ := w.tenantOf(tg)
	d, err := w.a.Tenants.CreateDepartment(context.Background(), t.ID, w.name("matrix-dept"))
	if err != nil {
		w.a.t.Fatalf("create department: %v", err)
	}
	return d.ID
}

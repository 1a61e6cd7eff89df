package server

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
)

// Access says who may call a route before any permission is checked.
type Access int

// The access levels a route can declare.
const (
	// Public routes answer anyone: health checks, sign-in, the setup link, static assets, the
	// visitor widget, and the metrics (whose handler checks its own bearer token: a scraper has
	// no session). Each one is listed here on purpose.
	Public Access = iota + 1
	// Authenticated routes need a signed-in console user and, when Permission is set, that
	// permission in the route's scope.
	Authenticated
)

// Scope says where a route's permission is checked.
type Scope int

// The scopes a permission can be checked in.
const (
	// ScopeNone is for public routes and routes that need only a session.
	ScopeNone Scope = iota
	// ScopeTenant checks the permission tenant-wide.
	ScopeTenant
	// ScopeDepartment checks the permission in the department the request names (":department"
	// parameter or the department of the object it addresses).
	ScopeDepartment
)

// Route is one row of the route table: every HTTP route Parley serves is declared here with the
// permission that guards it, so the authorization matrix, the OpenAPI document and the evidence
// report read the same list.
type Route struct {
	Method     string
	Path       string
	Access     Access
	Permission string
	// Alternatives are broader permissions that also pass the route's check, in the same scope:
	// transcript.view.department and transcript.view.all reach the pages transcript.view.own
	// guards, so a custom role holding only the broader form is not locked out of them.
	Alternatives []string
	Scope        Scope
	// API marks routes described in docs/openapi.yaml (everything under /api/ and the health checks).
	API bool
	// Summary is a one-line description for docs and the evidence report.
	Summary    string
	Handler    echo.HandlerFunc
	Middleware []echo.MiddlewareFunc
	// MaxBodyBytes is the largest request body the route accepts; 0 means the server-wide limit
	// (PARLEY_MAX_BODY_BYTES). A route that takes uploads declares the hard cap of its feature
	// here; its handler then enforces the narrower limit of the tenant or site. A route allowed
	// more than the server-wide limit also gets more time to read its body (see uploadTime).
	MaxBodyBytes int64
	// Department resolves the department a ScopeDepartment request addresses when its path names
	// an object (a conversation, a transcript) rather than the department: it returns the
	// object's department id ("" when the object belongs to no department, so only tenant-wide
	// grants reach it), or api.ErrNotFound when the object is not tenantID's. Nil reads the
	// ":department" path parameter.
	Department func(c echo.Context, tenantID string) (string, error)
}

// Key identifies a route by method and path.
func (r Route) Key() string { return r.Method + " " + r.Path }

// Module is a part of the application that serves routes.
type Module interface {
	Routes() []Route
}

// validate refuses a table with a route that declares no access, an authenticated route in a
// scope without a permission, or a duplicate.
func validateRoutes(routes []Route) error {
	seen := map[string]bool{}
	var problems []string
	for _, r := range routes {
		switch {
		case r.Handler == nil:
			problems = append(problems, r.Key()+": no handler")
		case r.Access != Public && r.Access != Authenticated:
			problems = append(problems, r.Key()+": no access declared (Public or Authenticated)")
		case r.Access == Public && r.Permission != "":
			problems = append(problems, r.Key()+": public route with a permission")
		case r.Scope != ScopeNone && r.Permission == "":
			problems = append(problems, r.Key()+": scope without a permission")
		case r.Permission != "" && r.Scope == ScopeNone:
			problems = append(problems, r.Key()+": permission without a scope")
		case len(r.Alternatives) > 0 && r.Permission == "":
			problems = append(problems, r.Key()+": alternatives without a permission")
		case r.MaxBodyBytes < 0:
			problems = append(problems, r.Key()+": negative body limit")
		}
		if seen[r.Key()] {
			problems = append(problems, r.Key()+": declared twice")
		}
		seen[r.Key()] = true
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			problems = append(problems, r.Key()+": unsupported method")
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("route table: %s", strings.Join(problems, "; "))
	}
	return nil
}

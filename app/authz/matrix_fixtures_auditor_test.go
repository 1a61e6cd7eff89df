package authz_test

import (
	"net/http"
	"net/url"
)

// The auditor's console: the Integrity page and its API (app/integrity, audit.verify) and the
// evidence reports' JSON API (app/evidencehttp). Starting a verification is harmless, so the
// API's start is asserted (202); the form's is left to the guard's decision (status 0). The
// evidence request body is not an object, so the handler refuses it without queueing anything;
// the ids named are well formed and belong to nothing (404 for whoever may use the route).
func init() {
	const none = "0123456789abcdef0123456789abcdef"
	for k, v := range map[string]fixture{
		"GET /integrity":                         {status: http.StatusOK, build: get("/integrity")},
		"POST /integrity/verify":                 {build: form("/integrity/verify", url.Values{})},
		"POST /api/v1/audit/verifications":       {status: http.StatusAccepted, build: withBody("/api/v1/audit/verifications", "")},
		"GET /api/v1/audit/verifications/latest": {build: get("/api/v1/audit/verifications/latest")},
		"GET /api/v1/audit/verifications/:job":   {build: get("/api/v1/audit/verifications/" + none)},
		"GET /api/v1/audit/checkpoints":          {status: http.StatusOK, build: get("/api/v1/audit/checkpoints")},
		"GET /api/v1/audit/forwarding":           {status: http.StatusOK, build: get("/api/v1/audit/forwarding")},
		"GET /api/v1/evidence/reports":           {status: http.StatusOK, build: get("/api/v1/evidence/reports")},
		"POST /api/v1/evidence/reports":          {build: withBody("/api/v1/evidence/reports", "[]")},
		"GET /api/v1/evidence/reports/:report":   {build: get("/api/v1/evidence/reports/" + none)},
	} {
		routeFixtures[k] = v
	}
}

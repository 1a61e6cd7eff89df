package authz_test

import (
	"net/http"
	"net/url"
)

// Evidence (app/evidencehttp): evidence.view to see the page and download a bundle,
// evidence.generate to generate one. The generate form here names no framework, so the handler
// refuses it without generating (status 0: the matrix checks the guard's decision); the download
// names a well-formed id no report has (404 for whoever may use the route), since the page's own
// tests download real bundles.
func init() {
	for k, v := range map[string]fixture{
		"GET /evidence":                  {status: http.StatusOK, build: get("/evidence")},
		"POST /evidence":                 {build: form("/evidence", url.Values{"framework": {""}})},
		"GET /evidence/:report/download": {build: get("/evidence/0123456789abcdef0123456789abcdef/download")},
	} {
		routeFixtures[k] = v
	}
}

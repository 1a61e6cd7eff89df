package authz_test

import (
	"net/http"
	"net/url"
)

// Compliance mode (app/compliancehttp): security.view to see the mode and its drift,
// security.manage to set it. The changes here keep the mode off (none to none: nothing changes,
// nothing is recorded), so the matrix's organisations stay free of refusals; the package's own
// tests turn modes on and off.
func init() {
	for k, v := range map[string]fixture{
		"GET /api/v1/compliance-mode": {status: http.StatusOK, build: get("/api/v1/compliance-mode")},
		"PUT /api/v1/compliance-mode": {status: http.StatusOK, build: withBody("/api/v1/compliance-mode", `{"pci":false,"hipaa":false}`)},
		"GET /compliance-mode":        {status: http.StatusOK, build: get("/compliance-mode")},
		"POST /compliance-mode":       {status: http.StatusSeeOther, build: form("/compliance-mode", url.Values{})},
	} {
		routeFixtures[k] = v
	}
}

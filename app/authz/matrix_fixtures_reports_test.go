package authz_test

import "net/http"

// Reports (app/report/reporthttp): report.view.department in the department the request names;
// another tenant's department is not found.
func init() {
	for k, v := range map[string]fixture{
		"GET /reports":            {build: onDepartment("/reports?department=%s"), status: http.StatusOK},
		"GET /reports/export.csv": {build: onDepartment("/reports/export.csv?department=%s"), status: http.StatusOK},
		"GET /api/v1/reports":     {build: onDepartment("/api/v1/reports?department=%s"), status: http.StatusOK},
	} {
		routeFixtures[k] = v
	}
}

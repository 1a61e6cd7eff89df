package authz_test

import (
	"net/http"
	"net/url"
)

// The console's chat pages and the demo site (app/chat/chathttp, app/setup). The workspace and
// the live chats are checked in the department ?department= names (without it, where the user
// holds their permission); the demo site page and its form need site.manage tenant-wide, and the
// form creates the demo site once and then shows it (303 both times).
func init() {
	for k, v := range map[string]fixture{
		"GET /workspace":        {build: onDepartment("/workspace?department=%s"), status: http.StatusOK},
		"GET /live":             {build: onDepartment("/live?department=%s"), status: http.StatusOK},
		"GET /setup/demo-site":  {build: get("/setup/demo-site"), status: http.StatusOK},
		"POST /setup/demo-site": {build: form("/setup/demo-site", url.Values{}), status: http.StatusSeeOther},
	} {
		routeFixtures[k] = v
	}
}

package authz_test

import (
	"net/http"
	"net/url"
)

// The console's chat pages and the demo site (app/chat/chathttp, app/setup). The workspace and
// the live chats need only a session: their handlers check chat.accept or chat.monitor in any
// department and answer 403 naming the role to grant (status 0: the matrix checks that the guard
// refuses no one). The demo site page and its form need site.manage tenant-wide; the form
// creates the demo site once and then shows it (303 both times).
func init() {
	for k, v := range map[string]fixture{
		"GET /workspace":        {build: get("/workspace")},
		"GET /live":             {build: get("/live")},
		"GET /setup/demo-site":  {build: get("/setup/demo-site"), status: http.StatusOK},
		"POST /setup/demo-site": {build: form("/setup/demo-site", url.Values{}), status: http.StatusSeeOther},
	} {
		routeFixtures[k] = v
	}
}

package authz_test

import (
	"net/http"
	"net/url"
)

// Co-browsing (app/cobrowse): cobrowse.view in the conversation's department for the agent's
// routes (requests for a conversation nobody handles, or a session that does not exist, are
// refused by the handler without side effects); site.manage for a site's settings.
func init() {
	const none = "00000000-0000-7000-8000-000000000000"
	for k, v := range map[string]fixture{
		"POST /api/v1/chat/conversations/:conversation/cobrowse":              {build: onConversation("/api/v1/chat/conversations/%s/cobrowse", "")},
		"GET /api/v1/chat/conversations/:conversation/cobrowse":               {build: onConversation("/api/v1/chat/conversations/%s/cobrowse", "")},
		"POST /api/v1/chat/conversations/:conversation/cobrowse/:session/end": {build: onConversation("/api/v1/chat/conversations/%s/cobrowse/"+none+"/end", "")},
		"GET /api/v1/chat/conversations/:conversation/cobrowse/:session/ws":   {build: onConversation("/api/v1/chat/conversations/%s/cobrowse/"+none+"/ws", "")},
		"GET /chat/cobrowse/:conversation/viewer":                             {status: http.StatusOK, build: onConversation("/chat/cobrowse/%s/viewer", "")},
		"GET /api/v1/chat/sites/:site/cobrowse":                               {status: http.StatusOK, object: true, build: onSite("/api/v1/chat/sites/%s/cobrowse", "")},
		"PUT /api/v1/chat/sites/:site/cobrowse": {status: http.StatusOK, object: true, build: func(w *world, p *principal, tg target) request {
			r := onSite("/api/v1/chat/sites/%s/cobrowse", "")(w, p, tg)
			r.body = `{"enabled":false,"input_allowlist":["search"],"idle_seconds":120}`
			return r
		}},
		"GET /sites/:site/cobrowse": {status: http.StatusOK, object: true, build: onSite("/sites/%s/cobrowse", "")},
		"POST /sites/:site/cobrowse": {status: http.StatusSeeOther, object: true, build: func(w *world, p *principal, tg target) request {
			r := onSite("/sites/%s/cobrowse", "")(w, p, tg)
			return formRequest(r.path, url.Values{"idle_seconds": {"120"}, "input_allowlist": {"search"}})
		}},
	} {
		routeFixtures[k] = v
	}
}

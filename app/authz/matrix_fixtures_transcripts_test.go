package authz_test

import (
	"net/http"
	"net/url"
)

// Transcripts (app/transcript/transcripthttp). The list names its department in ?department=; a
// transcript route resolves it from the conversation (queued in the target's department, so no
// one took part in it): the guard checks transcript.view.own (or transcript.export) there, and
// the service then narrows to the reader's scope — an agent, who reads only their own chats, gets
// 404 from the handler (no denial), which the matrix accepts as allowed (status 0).
func init() {
	for k, v := range map[string]fixture{
		"GET /transcripts":                                   {build: onDepartment("/transcripts?department=%s"), status: http.StatusOK},
		"GET /api/v1/transcripts":                            {build: onDepartment("/api/v1/transcripts?department=%s"), status: http.StatusOK},
		"GET /transcripts/:conversation":                     {build: onConversationForm("/transcripts/%s", nil), object: true},
		"POST /transcripts/:conversation/open":               {build: onConversationForm("/transcripts/%s/open", url.Values{"reason": {"matrix check"}}), object: true},
		"GET /transcripts/:conversation/export":              {build: onConversationForm("/transcripts/%s/export?format=json", nil), object: true},
		"POST /transcripts/:conversation/export":             {build: onConversationForm("/transcripts/%s/export", url.Values{"format": {"json"}}), object: true},
		"POST /transcripts/:conversation/notes":              {build: onConversationForm("/transcripts/%s/notes", url.Values{"body": {"matrix note"}}), object: true},
		"POST /transcripts/:conversation/tags":               {build: onConversationForm("/transcripts/%s/tags", url.Values{"tag": {"matrix"}}), object: true},
		"POST /transcripts/:conversation/tags/remove":        {build: onConversationForm("/transcripts/%s/tags/remove", url.Values{"tag": {"matrix"}}), object: true},
		"POST /api/v1/transcripts/:conversation/open":        {build: onConversation("/api/v1/transcripts/%s/open", `{"reason":"matrix check"}`), object: true},
		"POST /api/v1/transcripts/:conversation/notes":       {build: onConversation("/api/v1/transcripts/%s/notes", `{"body":"matrix note"}`), object: true},
		"POST /api/v1/transcripts/:conversation/tags":        {build: onConversation("/api/v1/transcripts/%s/tags", `{"tag":"matrix"}`), object: true},
		"DELETE /api/v1/transcripts/:conversation/tags/:tag": {build: onConversation("/api/v1/transcripts/%s/tags/matrix", ""), object: true},
		"GET /transcript-settings":                           {build: get("/transcript-settings"), status: http.StatusOK},
		"POST /transcript-settings":                          {build: form("/transcript-settings", url.Values{}), status: http.StatusSeeOther},
		"GET /api/v1/transcript-settings":                    {build: get("/api/v1/transcript-settings"), status: http.StatusOK},
		"PUT /api/v1/transcript-settings":                    {build: withBody("/api/v1/transcript-settings", `{"require_reason":false}`), status: http.StatusOK},
	} {
		routeFixtures[k] = v
	}
}

func init() {
	routeFixtures["GET /transcripts/:conversation/files/:file"] = fixture{object: true, build: func(w *world, _ *principal, tg target) request {
		return request{path: "/transcripts/" + w.conversation(tg) + "/files/00000000-0000-7000-8000-000000000000"}
	}}
}

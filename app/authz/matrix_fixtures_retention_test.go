package authz_test

import (
	"net/http"
	"net/url"
)

// Retention (app/retention/retentionhttp): the page's forms, the transcript buttons and the
// JSON API. Bodies belong to retentionhttp's own tests: most requests here are refused by the
// handler without side effects (status 0), so the matrix checks the guard's decision; GET /retention
// and POST /retention are in matrix_fixtures_ops_test.go.
func init() {
	const none = "00000000-0000-7000-8000-000000000000"
	for k, v := range map[string]fixture{
		"POST /retention/minimums":                     {build: form("/retention/minimums", url.Values{"kind": {"transcripts"}, "days": {"x"}})},
		"POST /retention/sites":                        {build: form("/retention/sites", url.Values{"kind": {"nothing"}})},
		"POST /retention/holds":                        {build: form("/retention/holds", url.Values{"kind": {"organisation"}, "reason": {""}})},
		"POST /retention/holds/:hold/release":          {build: form("/retention/holds/"+none+"/release", url.Values{"reason": {"Matrix."}})},
		"POST /transcripts/:conversation/delete":       {object: true, build: onConversationForm("/transcripts/%s/delete", url.Values{})},
		"POST /transcripts/:conversation/hold":         {object: true, build: onConversationForm("/transcripts/%s/hold", url.Values{"reason": {""}})},
		"POST /transcripts/:conversation/hold/release": {object: true, build: onConversationForm("/transcripts/%s/hold/release", url.Values{"reason": {"Matrix."}})},
		"GET /api/v1/retention":                        {build: get("/api/v1/retention"), status: http.StatusOK},
		"PUT /api/v1/retention/periods/:kind":          {build: withBody("/api/v1/retention/periods/transcripts", "[]")},
		"POST /api/v1/retention/holds":                 {build: withBody("/api/v1/retention/holds", "[]")},
		"POST /api/v1/retention/holds/:hold/release":   {build: withBody("/api/v1/retention/holds/"+none+"/release", "[]")},
		"DELETE /api/v1/transcripts/:conversation": {object: true, build: func(w *world, _ *principal, tg target) request {
			return request{path: "/api/v1/transcripts/" + w.conversation(tg)}
		}},
	} {
		routeFixtures[k] = v
	}
}

package authz_test

import (
	"context"
	"net/http"

	"github.com/parleyhq/parley/app/identity"
)

// Agent-to-agent chat (app/chat/chathttp/team.go). The thread list and the colleague list need
// chat.agent_chat tenant-wide; a thread's messages are read by its members: the principal's
// thread with the tenant's owner in its own tenant (200), an id no thread of the principal's
// tenant has in the other (404).
func init() {
	for k, v := range map[string]fixture{
		"GET /api/v1/team/threads":                  {build: get("/api/v1/team/threads"), status: http.StatusOK},
		"GET /api/v1/team/colleagues":               {build: get("/api/v1/team/colleagues"), status: http.StatusOK},
		"GET /api/v1/team/threads/:thread/messages": {build: onTeamThread, status: http.StatusOK, object: true},
	} {
		routeFixtures[k] = v
	}
}

// missingThread is a well-formed thread id no tenant has.
const missingThread = "00000000-0000-7000-8000-000000000000"

// onTeamThread requests the messages of the principal's thread with the owner of tenant A (made
// by a first message), or of a thread the target's tenant does not have.
func onTeamThread(w *world, p *principal, tg target) request {
	id := missingThread
	if tg != otherTenant {
		res, err := w.a.Chat.TeamPost(context.Background(), &identity.Principal{TenantID: w.A.ID, UserID: p.c.UserID}, "", w.ownerA.ID,
			"matrix-1", "Hello")
		if err == nil {
			id = res.Event.ThreadID
		}
	}
	return request{path: "/api/v1/team/threads/" + id + "/messages"}
}

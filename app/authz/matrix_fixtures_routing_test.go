package authz_test

import (
	"net/http"
	"net/url"
	"sync"

	"github.com/parleyhq/parley/policy/rbac"
)

// Routing (app/chat/chathttp): the transfer dialog's roster (chat.transfer, checked in the
// department ?department= names, else where the user holds it), and the routing settings, the
// departments' and the agents' routing, as JSON and as the Routing page's forms (routing.manage,
// tenant-wide). Requests about an agent name a fresh agent of the target's tenant.
func init() {
	deptBody := `{"mode":"manual","capacity":0,"offer_timeout_seconds":30,"priority":0,"required_skills":[],"skill_question":""}`
	for k, v := range map[string]fixture{
		"GET /api/v1/chat/agents":           {build: onDepartment("/api/v1/chat/agents?department=%s"), status: http.StatusOK},
		"GET /api/v1/chat/routing":          {build: get("/api/v1/chat/routing"), status: http.StatusOK},
		"PUT /api/v1/chat/routing/settings": {build: withBody("/api/v1/chat/routing/settings", `{"idle_minutes":10,"default_capacity":3}`), status: http.StatusOK},
		"PUT /api/v1/chat/routing/departments/:department": {status: http.StatusOK, object: true, build: func(w *world, _ *principal, tg target) request {
			return request{path: "/api/v1/chat/routing/departments/" + w.department(tg), body: deptBody}
		}},
		"PUT /api/v1/chat/routing/agents/:user": {status: http.StatusOK, object: true, build: func(w *world, _ *principal, tg target) request {
			return request{path: "/api/v1/chat/routing/agents/" + w.routingAgent(tg), body: `{"capacity":2,"skills":["french"]}`}
		}},
		"GET /routing":           {build: get("/routing"), status: http.StatusOK},
		"POST /routing/settings": {build: form("/routing/settings", url.Values{"idle_minutes": {"10"}, "default_capacity": {"3"}}), status: http.StatusSeeOther},
		"POST /routing/departments/:department": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
			return formRequest("/routing/departments/"+w.department(tg), url.Values{"mode": {"manual"}, "capacity": {"0"}, "offer_timeout_seconds": {"30"}, "priority": {"0"}})
		}},
		"POST /routing/agents/:user": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
			return formRequest("/routing/agents/"+w.routingAgent(tg), url.Values{"capacity": {"2"}, "skills": {"french, mortgages"}})
		}},
	} {
		routeFixtures[k] = v
	}
}

// routingAgents holds, per matrix world and target, the agent the routing requests address:
// made once (a user with a password is slow to create), changed idempotently by every request.
var routingAgents sync.Map // *world → *sync.Map (target → user id)

// routingAgent returns an agent of the target's tenant, creating them on first use.
func (w *world) routingAgent(tg target) string {
	m, _ := routingAgents.LoadOrStore(w, &sync.Map{})
	if id, ok := m.(*sync.Map).Load(tg); ok {
		return id.(string)
	}
	t, _ := w.tenantOf(tg)
	id := w.a.createUser(t, w.name("routing-agent")+"@routing.test", rbac.RoleAgent).ID
	m.(*sync.Map).Store(tg, id)
	return id
}

package tenanthttp_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

const testPassword = "Tr1cky-Lantern-Harbour"

// harness is an application with two organisations: Acme (an owner and an agent signed in) and
// Other (an owner, whose objects Acme's users must never reach).
type harness struct {
	t      *testing.T
	a      *accounttest.App
	acme   tenant.Tenant
	other  tenant.Tenant
	owner  *accounttest.Client
	agent  *accounttest.Client
	others *accounttest.Client
	// ownerID and agentID are Acme's owner and agent.
	ownerID, agentID string
}

func newHarness(t *testing.T, db *migrations.DB) *harness {
	t.Helper()
	a := accounttest.New(t, db, nil)
	h := &harness{t: t, a: a}
	acme, owner := a.CreateUser("Acme Bank", "owner@acme.test", testPassword, "owner", false)
	_, agent := a.CreateUser("Acme Bank", "agent@acme.test", testPassword, "agent", false)
	h.acme, h.ownerID, h.agentID = acme, owner.ID, agent.ID
	h.other, _ = a.CreateUser("Other Bank", "owner@other.test", testPassword, "owner", false)
	h.owner = h.login(h.acme, "owner@acme.test")
	h.agent = h.login(h.acme, "agent@acme.test")
	h.others = h.login(h.other, "owner@other.test")
	return h
}

func (h *harness) login(tn tenant.Tenant, email string) *accounttest.Client {
	h.t.Helper()
	return h.a.Client("198.51.100.7:1000").SignIn(tn.Slug, email, testPassword)
}

// form posts a console form as a browser does (accounttest.Client.PostForm).
func form(c *accounttest.Client, path string, v url.Values) *httptest.ResponseRecorder {
	return c.PostForm(path, v)
}

// apiError is the error body the API answers.
type apiError struct {
	Error struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Field   string         `json:"field"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	return v
}

func (h *harness) events(tenantID string, action audit.Action) []audit.Entry {
	h.t.Helper()
	return h.a.AuditEvents(tenantID, action)
}

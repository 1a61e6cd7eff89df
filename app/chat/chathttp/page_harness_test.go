package chathttp_test

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

const pagePassword = "Tr1cky-Lantern-Harbour"

// pageHarness is Parley assembled by app.New over a test database with a
// tenant whose owner and agent are signed in, and a second tenant.
type pageHarness struct {
	t       *testing.T
	a       *accounttest.App
	tenant  tenant.Tenant
	other   tenant.Tenant
	ownerID string
	owner   *accounttest.Client
	agent   *accounttest.Client
}

func newPageHarness(t *testing.T, db *migrations.DB) *pageHarness {
	t.Helper()
	a := accounttest.New(t, db, nil)
	h := &pageHarness{t: t, a: a}
	var owner account.User
	h.tenant, owner = a.CreateUser("Acme Bank", "owner@acme.test", pagePassword, "owner", false)
	h.ownerID = owner.ID
	a.CreateUser("Acme Bank", "agent@acme.test", pagePassword, "agent", false)
	h.other, _ = a.CreateUser("Other Bank", "owner@other.test", pagePassword, "owner", false)
	h.owner = h.login(h.tenant.Slug, "owner@acme.test")
	h.agent = h.login(h.tenant.Slug, "agent@acme.test")
	return h
}

func (h *pageHarness) login(slug, email string) *accounttest.Client {
	h.t.Helper()
	return h.a.Client("198.51.100.7:1000").SignIn(slug, email, pagePassword)
}

// postForm posts a console form as a browser does (accounttest.Client.PostForm).
func postForm(c *accounttest.Client, path string, v url.Values) *httptest.ResponseRecorder {
	return c.PostForm(path, v)
}

func (h *pageHarness) events(tenantID string, action audit.Action) []audit.Entry {
	h.t.Helper()
	return h.a.AuditEvents(tenantID, action)
}

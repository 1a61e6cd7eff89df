package retentionhttp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

const testPassword = "Tr1cky-Lantern-Harbour"

// harness is Parley assembled by app.New over a test database with a
// tenant whose owner and agent are signed in, and a second tenant.
type harness struct {
	t       *testing.T
	db      *migrations.DB
	a       *accounttest.App
	tenant  tenant.Tenant
	other   tenant.Tenant
	ownerID string
	owner   *accounttest.Client
	agent   *accounttest.Client
}

func newHarness(t *testing.T, db *migrations.DB) *harness {
	t.Helper()
	a := accounttest.New(t, db, nil)
	h := &harness{t: t, a: a}
	var owner account.User
	h.tenant, owner = a.CreateUser("Acme Bank", "owner@acme.test", testPassword, "owner", false)
	h.ownerID = owner.ID
	a.CreateUser("Acme Bank", "agent@acme.test", testPassword, "agent", false)
	h.other, _ = a.CreateUser("Other Bank", "owner@other.test", testPassword, "owner", false)
	h.owner = h.login(h.tenant.Slug, "owner@acme.test")
	h.agent = h.login(h.tenant.Slug, "agent@acme.test")
	return h
}

func (h *harness) login(slug, email string) *accounttest.Client {
	h.t.Helper()
	return h.a.Client("198.51.100.7:1000").SignIn(slug, email, testPassword)
}

// form posts a console form as a browser does (accounttest.Client.PostForm).
func form(c *accounttest.Client, path string, v url.Values) *httptest.ResponseRecorder {
	return c.PostForm(path, v)
}

func (h *harness) events(tenantID string, action audit.Action) []audit.Entry {
	h.t.Helper()
	return h.a.AuditEvents(tenantID, action)
}

func errorOf(t *testing.T, rec *httptest.ResponseRecorder) (code, field string) {
	t.Helper()
	var b struct {
		Error struct {
			Code  string `json:"code"`
			Field string `json:"field"`
		} `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &b)
	return b.Error.Code, b.Error.Field
}

// formWithout is a form request with no CSRF token at all.
func formWithout(path string, v url.Values) apptest.Request {
	return apptest.Request{Method: http.MethodPost, Path: path, Body: v.Encode(), ContentType: echo.MIMEApplicationForm}
}

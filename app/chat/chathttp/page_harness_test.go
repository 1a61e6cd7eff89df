package chathttp_test

import (
	"context"
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
	c := h.a.Client("198.51.100.7:1000")
	rec := c.Login(slug, email, pagePassword, nil)
	if rec.Code != http.StatusOK {
		h.t.Fatalf("sign in %s: %d %s", email, rec.Code, rec.Body)
	}
	var body struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		h.t.Fatal(err)
	}
	c.CSRF = body.CSRF
	return c
}

// form posts a form as a browser does: the CSRF token in the body, not in a header.
func postForm(c *accounttest.Client, path string, v url.Values) *httptest.ResponseRecorder {
	csrf := c.CSRF
	defer func() { c.CSRF = csrf }()
	v.Set("csrf_token", csrf)
	c.CSRF = ""
	return c.DoRequest(apptest.Request{Method: http.MethodPost, Path: path, Body: v.Encode(), ContentType: echo.MIMEApplicationForm})
}

// events returns the tenant's audit entries of an action, after chaining what is pending.
func (h *pageHarness) events(tenantID string, action audit.Action) []audit.Entry {
	h.t.Helper()
	ctx := context.Background()
	if _, err := h.a.App.Audit.Seal(ctx); err != nil {
		h.t.Fatal(err)
	}
	all, err := h.a.App.Audit.Entries(ctx, tenantID, 0, 10000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

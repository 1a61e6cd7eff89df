package redaction_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

const testPassword = "Quiet-harbour-2026-lamp"

// harness is Parley assembled by app.New over a test database, with a tenant, its owner and an
// agent signed in.
type harness struct {
	t      *testing.T
	a      *accounttest.App
	tenant tenant.Tenant
	owner  *accounttest.Client
	agent  *accounttest.Client
}

func newHarness(t *testing.T, db *migrations.DB) *harness {
	t.Helper()
	a := accounttest.New(t, db, nil)
	h := &harness{t: t, a: a}
	h.tenant, _ = a.CreateUser("Acme Bank", "owner@acme.example", testPassword, "owner", false)
	a.CreateUser("Acme Bank", "agent@acme.example", testPassword, "agent", false)
	h.owner = h.login("owner@acme.example")
	h.agent = h.login("agent@acme.example")
	return h
}

func (h *harness) login(email string) *accounttest.Client {
	h.t.Helper()
	c := h.a.Client("192.0.2.10:4000")
	rec := c.Login(h.tenant.Slug, email, testPassword, nil)
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

// events returns the tenant's audit entries of an action, after chaining what is pending.
func (h *harness) events(action audit.Action) []audit.Entry {
	h.t.Helper()
	ctx := context.Background()
	if _, err := h.a.App.Audit.Seal(ctx); err != nil {
		h.t.Fatal(err)
	}
	all, err := h.a.App.Audit.Entries(ctx, h.tenant.ID, 0, 10000)
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

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &b)
	return b.Error.Code
}

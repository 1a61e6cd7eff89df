package authz_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
)

// testPassword satisfies the default password policy (pci-dss-4).
const testPassword = "Quiet-harbour-2026-lamp"

// recorder is an authz.Auditor keeping events in memory; Fail makes every Record fail.
type recorder struct {
	apptest.Recorder[authz.Event]
}

var _ authz.Auditor = (*recorder)(nil)

func (r *recorder) find(action string) []authz.Event {
	return r.Filter(func(e authz.Event) bool { return e.Action == action })
}

// byRequest returns the events recorded for one request.
func (r *recorder) byRequest(requestID string) []authz.Event {
	return r.Filter(func(e authz.Event) bool { return e.RequestID == requestID })
}

// testApp is a whole Parley application over a migrated database (accounttest's, with its
// account event recorder), recording authorization events in Audit.
type testApp struct {
	*accounttest.App
	t testing.TB
	// Audit holds the authorization events; the account events are in App.Audit.
	Audit *recorder
}

func newApp(t testing.TB, db *migrations.DB) *testApp {
	t.Helper()
	rec := &recorder{}
	a := accounttest.NewWith(t, db, nil, accounttest.Options{AuthzAuditor: rec})
	return &testApp{App: a, t: t, Audit: rec}
}

// createTenant creates a tenant with departments.
func (a *testApp) createTenant(name string, depts ...string) (tenant.Tenant, []tenant.Department) {
	a.t.Helper()
	ctx := context.Background()
	t, err := a.Tenants.CreateTenant(ctx, name)
	if err != nil {
		a.t.Fatalf("create tenant: %v", err)
	}
	var out []tenant.Department
	for _, d := range depts {
		dep, err := a.Tenants.CreateDepartment(ctx, t.ID, d)
		if err != nil {
			a.t.Fatalf("create department: %v", err)
		}
		out = append(out, dep)
	}
	return t, out
}

// createUser creates a user who can sign in, with a role tenant-wide.
func (a *testApp) createUser(t tenant.Tenant, email, role string) account.User {
	a.t.Helper()
	var u account.User
	err := a.DB.Gorm.Transaction(func(tx *gorm.DB) error {
		var err error
		u, err = a.Accounts.CreateUser(context.Background(), tx, account.NewUser{
			TenantID: t.ID, TenantName: t.Name, Email: email, Password: testPassword, Role: role,
		})
		return err
	})
	if err != nil {
		a.t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// createBareUser creates an active user without a password (it cannot sign in): a cheap target
// for role changes.
func (a *testApp) createBareUser(tenantID string) account.User {
	a.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	// The address spells the id's digits as letters: a random id's digits, read across its
	// hyphens, can form a card number, which the storage guard refuses in an e-mail address.
	email := "target-" + strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return 'g' + (r - '0')
		}
		return r
	}, id) + "@example.test"
	u := account.User{ID: id, TenantID: tenantID, Email: email, EmailKey: email, Status: account.StatusActive}
	if err := a.Users.Create(context.Background(), &u); err != nil {
		a.t.Fatalf("create user: %v", err)
	}
	return u
}

// actor is a Service actor for a user.
func actor(tenantID, userID string) authz.Actor {
	return authz.Actor{TenantID: tenantID, UserID: userID, ClientIP: "192.0.2.10", RequestID: "test-" + userID}
}

// client is a signed-in console user: session cookie and CSRF token.
type client struct {
	a      *testApp
	cookie string
	csrf   string
	UserID string
}

// login signs a user in through the sign-in API.
func (a *testApp) login(slug, email string) *client {
	a.t.Helper()
	body := fmt.Sprintf(`{"tenant":%q,"email":%q,"password":%q}`, slug, email, testPassword)
	rec := a.Do(apptest.Request{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: body})
	if rec.Code != http.StatusOK {
		a.t.Fatalf("sign in %s: status %d, body %s", email, rec.Code, rec.Body)
	}
	var res struct {
		CSRFToken string `json:"csrf_token"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		a.t.Fatal(err)
	}
	c := &client{a: a, csrf: res.CSRFToken, UserID: res.User.ID}
	for _, ck := range rec.Result().Cookies() {
		if strings.HasSuffix(ck.Name, "parley_session") {
			c.cookie = ck.Name + "=" + ck.Value
		}
	}
	if c.cookie == "" || c.csrf == "" {
		a.t.Fatalf("sign in %s: no session cookie or CSRF token", email)
	}
	return c
}

// do sends a request as the client.
func (c *client) do(method, path, body string) *httptest.ResponseRecorder {
	return c.doRequest(apptest.Request{Method: method, Path: path, Body: body})
}

func (c *client) doRequest(r apptest.Request) *httptest.ResponseRecorder {
	return c.via(c.a.Server.Echo, r)
}

// via sends a request as the client through h: the session cookie, and the CSRF token on a
// state-changing request.
func (c *client) via(h http.Handler, r apptest.Request) *httptest.ResponseRecorder {
	hd := http.Header{}
	for k, v := range r.Header {
		hd[k] = v
	}
	hd.Set("Cookie", c.cookie)
	if r.Method != http.MethodGet {
		hd.Set("X-CSRF-Token", c.csrf)
	}
	r.Header = hd
	return apptest.Serve(h, r)
}

// errorCode returns the code of a JSON error body.
func errorCode(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &b)
	return b.Error.Code
}

var errBoom = errors.New("audit store unavailable")

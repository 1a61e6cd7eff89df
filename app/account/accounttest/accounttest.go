// Package accounttest builds a whole Parley application for account and sign-in tests: the real
// app.New over a migrated database with a settable clock and an in-memory audit recorder; MFA
// secrets are sealed by the application's own key provider (the local development provider in
// the test's data folder, or Vault when configured). Requests go through the real Echo router;
// Client carries cookies and the CSRF token like a browser or API client would.
//
// Nothing here is used outside tests: production wires the audit log into app.Options.
package accounttest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// Recorder is an account.Auditor that keeps events in memory. Set Fail to make every Record fail
// (to test that audited actions fail closed).
type Recorder struct {
	apptest.Recorder[account.Event]
}

var _ account.Auditor = (*Recorder)(nil)

// Actions returns the actions of the events recorded so far, in order.
func (r *Recorder) Actions() []string {
	var out []string
	for _, e := range r.Events() {
		out = append(out, e.Action)
	}
	return out
}

// Find returns the recorded events with action.
func (r *Recorder) Find(action string) []account.Event {
	return r.Filter(func(e account.Event) bool { return e.Action == action })
}

// App is an application under test.
type App struct {
	*app.App
	Clock *apptest.Clock
	Audit *Recorder
	t     testing.TB
}

// Options tune New.
type Options struct {
	// NoAuditor builds the app without an auditor.
	NoAuditor bool
	// Sealer replaces the key provider's MFA sealer (to test failures).
	Sealer account.SecretSealer
	// Log receives the application's logs; nil discards them.
	Log *slog.Logger
	// Rand replaces the random source (tokens, TOTP secrets, salts).
	Rand io.Reader
	// AuthzAuditor receives the authorization events (role changes, escalation attempts,
	// access reviews); nil leaves the application's default.
	AuthzAuditor authz.Auditor
}

// New assembles the application over db with env settings, a test clock starting at
// 2026-01-05 09:00 UTC and a Recorder.
func New(t testing.TB, db *migrations.DB, env map[string]string) *App {
	return NewWith(t, db, env, Options{})
}

// NewWith is New with options.
func NewWith(t testing.TB, db *migrations.DB, env map[string]string, o Options) *App {
	t.Helper()
	cfg := apptest.Config(t, env)
	clock := apptest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	rec := &Recorder{}
	opts := app.Options{Now: clock.Now, Rand: o.Rand, MFASealer: o.Sealer, Log: o.Log, AuthzAuditor: o.AuthzAuditor}
	if !o.NoAuditor {
		opts.AccountAuditor = rec
	}
	a, err := app.New(context.Background(), cfg, db, opts)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	apptest.CheckOpenAPI(t, a.Server.Echo)
	t.Cleanup(func() {
		a.Envelope.Close()
	})
	// Background work a request started (evidence reports, chain verifications) ends before the
	// key provider and the database close.
	t.Cleanup(func() {
		a.EvidenceJobs.Wait()
		a.Integrity.Wait()
	})
	return &App{App: a, Clock: clock, Audit: rec, t: t}
}

// CreateUser creates (or reuses) the tenant tenantName and a user in it with the given role.
func (a *App) CreateUser(tenantName, email, password, role string, mustChange bool) (tenant.Tenant, account.User) {
	a.t.Helper()
	ctx := context.Background()
	var (
		t tenant.Tenant
		u account.User
	)
	err := a.DB.Gorm.Transaction(func(tx *gorm.DB) error {
		ts := a.Tenants.WithTx(tx)
		var err error
		t, err = ts.BySlug(ctx, tenant.Slug(tenantName))
		if errors.Is(err, tenant.ErrNotFound) {
			if t, err = ts.CreateTenant(ctx, tenantName); err != nil {
				return err
			}
			// A new tenant gets its key at the key provider, as tenant creation does in Parley.
			err = a.Envelope.CreateTenantKey(ctx, t.ID)
		}
		if err != nil {
			return err
		}
		u, err = a.Accounts.CreateUser(ctx, tx, account.NewUser{
			TenantID: t.ID, TenantName: t.Name, Email: email, Password: password, Role: role, MustChange: mustChange,
		})
		return err
	})
	if err != nil {
		a.t.Fatalf("create user %s: %v", email, err)
	}
	a.RefreshPolicy()
	return t, u
}

// RefreshPolicy makes the authorization enforcer read role assignments made since it last
// looked (the test clock does not move on its own, so its periodic check would not run).
func (a *App) RefreshPolicy() {
	a.t.Helper()
	if _, err := a.Enforcer.Refresh(context.Background()); err != nil {
		a.t.Fatalf("refresh authorization policy: %v", err)
	}
}

// Do sends r through the real router.
func (a *App) Do(r apptest.Request) *httptest.ResponseRecorder {
	a.t.Helper()
	return apptest.Serve(a.Server.Echo, r)
}

// Client is a cookie-carrying client from one address.
type Client struct {
	a       *App
	cookies map[string]*http.Cookie
	// CSRF is sent as X-CSRF-Token on state-changing requests when set.
	CSRF string
	// RemoteAddr is the client's (or its proxy's) address, "host:port".
	RemoteAddr string
	// Header is added to every request.
	Header http.Header
}

// Client returns a new client connecting from remoteAddr.
func (a *App) Client(remoteAddr string) *Client {
	return &Client{a: a, cookies: map[string]*http.Cookie{}, RemoteAddr: remoteAddr, Header: http.Header{}}
}

// Cookie returns the cookie named name the client holds, or nil.
func (c *Client) Cookie(name string) *http.Cookie { return c.cookies[name] }

// Do sends a request with the client's cookies, headers and CSRF token, and keeps the cookies
// the response sets.
func (c *Client) Do(method, path, body string) *httptest.ResponseRecorder {
	return c.DoRequest(apptest.Request{Method: method, Path: path, Body: body})
}

// DoRequest is Do for a full request.
func (c *Client) DoRequest(r apptest.Request) *httptest.ResponseRecorder {
	c.a.t.Helper()
	h := http.Header{}
	for k, vs := range c.Header {
		h[k] = append([]string(nil), vs...)
	}
	for k, vs := range r.Header {
		h[k] = append(h[k], vs...)
	}
	var parts []string
	for _, ck := range c.cookies {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	if len(parts) > 0 {
		h.Set("Cookie", strings.Join(parts, "; "))
	}
	if c.CSRF != "" && r.Method != http.MethodGet && h.Get("X-CSRF-Token") == "" {
		h.Set("X-CSRF-Token", c.CSRF)
	}
	r.Header = h
	if r.RemoteAddr == "" {
		r.RemoteAddr = c.RemoteAddr
	}
	rec := c.a.Do(r)
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
			continue
		}
		c.cookies[ck.Name] = ck
	}
	return rec
}

// Login posts credentials to the sign-in API; fields holds totp, captcha_id and captcha_answer
// when given.
func (c *Client) Login(tenantSlug, email, password string, fields map[string]string) *httptest.ResponseRecorder {
	c.a.t.Helper()
	body := map[string]string{"tenant": tenantSlug, "email": email, "password": password}
	for k, v := range fields {
		body[k] = v
	}
	return c.Do(http.MethodPost, "/api/v1/auth/login", jsonString(body))
}

func jsonString(m map[string]string) string {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// SignIn signs the client in through the sign-in API, failing the test otherwise, and keeps the
// session's CSRF token for state-changing requests.
func (c *Client) SignIn(tenantSlug, email, password string) *Client {
	c.a.t.Helper()
	rec := c.Login(tenantSlug, email, password, nil)
	if rec.Code != http.StatusOK {
		c.a.t.Fatalf("sign in %s: %d %s", email, rec.Code, rec.Body)
	}
	var body struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		c.a.t.Fatal(err)
	}
	c.CSRF = body.CSRF
	return c
}

// PostForm posts a console form as a browser does: URL-encoded, the session's CSRF token in the
// body (csrf_token), not in a header.
func (c *Client) PostForm(path string, v url.Values) *httptest.ResponseRecorder {
	c.a.t.Helper()
	csrf := c.CSRF
	defer func() { c.CSRF = csrf }()
	v.Set("csrf_token", csrf)
	c.CSRF = ""
	return c.DoRequest(apptest.Request{Method: http.MethodPost, Path: path, Body: v.Encode(), ContentType: echo.MIMEApplicationForm})
}

// AuditEvents returns a tenant's audit entries of one action, after chaining what is pending.
func (a *App) AuditEvents(tenantID string, action audit.Action) []audit.Entry {
	a.t.Helper()
	ctx := context.Background()
	if _, err := a.App.Audit.Seal(ctx); err != nil {
		a.t.Fatal(err)
	}
	all, err := a.App.Audit.Entries(ctx, tenantID, 0, 10000)
	if err != nil {
		a.t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

package account_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/authz"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/policy/signin"
)

const (
	ownerEmail = "owner@acme.test"
	ownerPass  = "Harbour lights 2031"
	agentEmail = "agent@acme.test"
	agentPass  = "Quiet orchard 4471"
	// agentAddr is where the agent's requests come from; insideNet contains it, outsideNet does not.
	agentAddr  = "198.51.100.7:51000"
	insideNet  = "198.51.100.0/24"
	outsideNet = "203.0.113.0/24"
)

// cluster is two Parley nodes over one database, as behind a load balancer: a change made
// through either must apply on the other's next request.
type cluster struct {
	a, b *accounttest.App
	db   *migrations.DB
	tn   tenant.Tenant
	// owner is a system actor of the tenant, for changes made from the server's shell.
	owner account.Actor
}

func newCluster(t *testing.T, db *migrations.DB) *cluster {
	t.Helper()
	env := map[string]string{"PARLEY_DATA_DIR": t.TempDir()}
	c := &cluster{a: accounttest.New(t, db, env), b: accounttest.New(t, db, env), db: db}
	tn, owner := c.a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
	c.a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
	c.b.RefreshPolicy()
	c.tn = tn
	c.owner = account.Actor{TenantID: tn.ID, UserID: owner.ID, System: true}
	return c
}

// signIn signs email in on node A from agentAddr and returns the session cookie.
func (c *cluster) signIn(t *testing.T, email, password string) string {
	t.Helper()
	cl := c.a.Client(agentAddr)
	if rec := cl.Login(c.tn.Slug, email, password, nil); rec.Code != http.StatusOK {
		t.Fatalf("sign in %s: %d %s", email, rec.Code, rec.Body.String())
	}
	ck := cl.Cookie("parley_session")
	if ck == nil {
		t.Fatal("no session cookie")
	}
	return ck.Name + "=" + ck.Value
}

// get sends GET path with the session cookie to node n from agentAddr.
func get(n *accounttest.App, cookie, path string) *httptest.ResponseRecorder {
	return n.Do(apptest.Request{Method: http.MethodGet, Path: path, RemoteAddr: agentAddr, Header: http.Header{"Cookie": {cookie}}})
}

// want checks the outcome of the session's next request on node n: 200, or the error code.
func (c *cluster) want(t *testing.T, n *accounttest.App, cookie, code string) {
	t.Helper()
	rec := get(n, cookie, "/api/v1/auth/session")
	got := "ok"
	if rec.Code != http.StatusOK {
		var b struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &b)
		got = b.Error.Code
	}
	if got != code {
		t.Fatalf("next request: %q (%d %s), want %q", got, rec.Code, rec.Body.String(), code)
	}
}

func (c *cluster) setList(t *testing.T, n *accounttest.App, role string, entries ...string) {
	t.Helper()
	if _, err := n.Accounts.SetAllowlist(context.Background(), c.owner, account.SetAllowlistInput{Role: role, Entries: entries}); err != nil {
		t.Fatalf("set allowlist %q: %v", role, err)
	}
}

func (c *cluster) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if err := migratetest.Beneath(t, c.db).Gorm.Exec(q, args...).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestAuthenticateAcrossNodes: node A caches users and each tenant's security settings and
// allowlists by version; every change made on node B, by the CLI or by hand in the database
// applies from A's very next request, and so do revocation, disabling and role changes.
func TestAuthenticateAcrossNodes(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		c := newCluster(t, db)
		ctx := context.Background()
		agent := c.signIn(t, agentEmail, agentPass)
		owner := c.signIn(t, ownerEmail, ownerPass)
		c.want(t, c.a, agent, "ok") // A has the tenant's settings and the agent cached now
		c.want(t, c.b, agent, "ok") // the session is the cluster's, not a node's

		t.Run("allowlists", func(t *testing.T) {
			c.setList(t, c.b, "", outsideNet)
			c.want(t, c.a, agent, "ip_not_allowed")
			c.setList(t, c.b, "", insideNet, outsideNet)
			c.want(t, c.a, agent, "ok")
			c.setList(t, c.b, "", outsideNet)
			c.want(t, c.a, agent, "ip_not_allowed")
			c.setList(t, c.b, "")
			c.want(t, c.a, agent, "ok")
			// A role's list applies to its holders only.
			c.setList(t, c.b, "agent", outsideNet)
			c.want(t, c.a, agent, "ip_not_allowed")
			c.want(t, c.a, owner, "ok")
			c.setList(t, c.b, "agent")
			c.want(t, c.a, agent, "ok")
		})
		t.Run("emergency suspension", func(t *testing.T) {
			c.setList(t, c.b, "", outsideNet)
			c.want(t, c.a, agent, "ip_not_allowed")
			if err := c.b.Accounts.SuspendAllowlists(ctx, c.owner, c.tn.ID, c.b.Clock.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			c.want(t, c.a, agent, "ok")
			if err := c.b.Accounts.SuspendAllowlists(ctx, c.owner, c.tn.ID, time.Time{}); err != nil {
				t.Fatal(err)
			}
			c.want(t, c.a, agent, "ip_not_allowed")
			c.setList(t, c.b, "")
			c.want(t, c.a, agent, "ok")
		})
		t.Run("written by hand in the database", func(t *testing.T) {
			c.exec(t, "INSERT INTO ip_allowlists (tenant_id, role, entries, updated_at) VALUES (?, '', ?, ?)", c.tn.ID, outsideNet, c.a.Clock.Now())
			c.want(t, c.a, agent, "ip_not_allowed")
			c.exec(t, "UPDATE ip_allowlists SET entries = ? WHERE tenant_id = ?", insideNet, c.tn.ID)
			c.want(t, c.a, agent, "ok")
			c.exec(t, "UPDATE ip_allowlists SET entries = ? WHERE tenant_id = ?", outsideNet, c.tn.ID)
			c.want(t, c.a, agent, "ip_not_allowed")
			c.exec(t, "DELETE FROM ip_allowlists WHERE tenant_id = ?", c.tn.ID)
			c.want(t, c.a, agent, "ok")
			// A stored setting that no longer validates refuses the request (fail closed).
			c.exec(t, "UPDATE security_settings SET session_policy = ? WHERE tenant_id = ?", `{"idle_timeout_minutes": -1}`, c.tn.ID)
			c.want(t, c.a, agent, "invalid_settings")
			c.exec(t, "UPDATE security_settings SET session_policy = '' WHERE tenant_id = ?", c.tn.ID)
			c.want(t, c.a, agent, "ok")
		})
		t.Run("user row", func(t *testing.T) {
			// What A hands the handlers is the user as stored now: the last sign-in it shows
			// changes with the row.
			c.exec(t, "UPDATE users SET previous_login_at = ?, previous_login_ip = ? WHERE email_key = ?", c.a.Clock.Now().Add(-time.Hour), "192.0.2.99", agentEmail)
			var body struct {
				LastSignIn struct {
					IP string `json:"ip"`
				} `json:"last_sign_in"`
			}
			if err := json.Unmarshal(get(c.a, agent, "/api/v1/auth/session").Body.Bytes(), &body); err != nil || body.LastSignIn.IP != "192.0.2.99" {
				t.Fatalf("last sign-in shown: %+v (%v), want the stored 192.0.2.99", body, err)
			}
			// A user disabled by hand, sessions left in place, is refused and the session ends.
			c.exec(t, "UPDATE users SET status = ? WHERE email_key = ?", account.StatusDisabled, agentEmail)
			c.want(t, c.a, agent, "unauthenticated")
			c.exec(t, "UPDATE users SET status = ? WHERE email_key = ?", account.StatusActive, agentEmail)
			c.want(t, c.a, agent, "unauthenticated")
		})
		agent = c.signIn(t, agentEmail, agentPass)
		agentID := userID(t, c.a, c.tn.ID, agentEmail)
		t.Run("session policy", func(t *testing.T) {
			p := signin.DefaultSessionPolicy()
			p.IdleTimeout = 5 * time.Minute
			if err := c.b.Accounts.SetSessionPolicy(ctx, c.owner, p); err != nil {
				t.Fatal(err)
			}
			c.a.Clock.Advance(6 * time.Minute)
			c.want(t, c.a, agent, "session_expired")
		})
		t.Run("revocation", func(t *testing.T) {
			agent = c.signIn(t, agentEmail, agentPass)
			c.want(t, c.a, agent, "ok")
			views, err := c.b.Accounts.Sessions(ctx, c.tn.ID, agentID)
			if err != nil || len(views) == 0 {
				t.Fatalf("sessions: %v, %v", views, err)
			}
			for _, v := range views {
				if err := c.b.Accounts.RevokeSession(ctx, c.owner, agentID, v.ID); err != nil {
					t.Fatal(err)
				}
			}
			c.want(t, c.a, agent, "unauthenticated")
		})
		t.Run("disabled", func(t *testing.T) {
			agent = c.signIn(t, agentEmail, agentPass)
			c.want(t, c.a, agent, "ok")
			if err := c.b.Accounts.Disable(ctx, account.Actor{TenantID: c.tn.ID, UserID: c.owner.UserID}, agentID); err != nil {
				t.Fatal(err)
			}
			c.want(t, c.a, agent, "unauthenticated")
			if err := c.b.Accounts.Enable(ctx, account.Actor{TenantID: c.tn.ID, UserID: c.owner.UserID}, agentID); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("role change", func(t *testing.T) {
			agent = c.signIn(t, agentEmail, agentPass)
			c.setList(t, c.b, "supervisor", outsideNet)
			c.want(t, c.a, agent, "ok")
			by := authz.Actor{TenantID: c.tn.ID, UserID: c.owner.UserID, RequestID: "test"}
			if _, err := c.b.Authz.Assign(ctx, by, agentID, "supervisor", ""); err != nil {
				t.Fatal(err)
			}
			c.want(t, c.a, agent, "unauthenticated") // the role change ended the session
			// The new session carries the new role, so the supervisors' list applies.
			if rec := c.a.Client(agentAddr).Login(c.tn.Slug, agentEmail, agentPass, nil); rec.Code != http.StatusForbidden {
				t.Fatalf("sign-in outside the supervisors' list: %d %s", rec.Code, rec.Body.String())
			}
			c.setList(t, c.b, "supervisor")
			agent = c.signIn(t, agentEmail, agentPass)
			c.setList(t, c.b, "supervisor", outsideNet)
			c.want(t, c.a, agent, "ip_not_allowed")
			c.setList(t, c.b, "supervisor")
			// A role granted or taken by hand, the user's row and sessions left alone, counts too.
			c.setList(t, c.b, "auditor", outsideNet)
			c.want(t, c.a, agent, "ok")
			c.exec(t, "INSERT INTO role_assignments (id, tenant_id, user_id, role, created_at) VALUES (?, ?, ?, 'auditor', ?)",
				"ra-by-hand", c.tn.ID, agentID, c.a.Clock.Now())
			c.want(t, c.a, agent, "ip_not_allowed")
			c.exec(t, "DELETE FROM role_assignments WHERE id = ?", "ra-by-hand")
			c.want(t, c.a, agent, "ok")
			c.setList(t, c.b, "auditor")
		})
		t.Run("MFA required", func(t *testing.T) {
			if err := c.b.Accounts.SetMFAPolicy(ctx, c.owner, account.MFAPolicy{Required: true, GraceSignIns: 3}); err != nil {
				t.Fatal(err)
			}
			// The sign-in on A gives a grace session that can only enrol a second factor.
			cl := c.a.Client(agentAddr)
			if rec := cl.Login(c.tn.Slug, agentEmail, agentPass, nil); rec.Code != http.StatusForbidden ||
				!strings.Contains(rec.Body.String(), "mfa_enrolment_required") || cl.Cookie("parley_session") == nil {
				t.Fatalf("sign-in: %d %s", rec.Code, rec.Body.String())
			}
			agent = "parley_session=" + cl.Cookie("parley_session").Value
			c.want(t, c.a, agent, "ok") // its own state
			rec := get(c.a, agent, "/api/v1/account/sessions")
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "mfa_enrolment_required") {
				t.Fatalf("a grace session outside enrolment: %d %s", rec.Code, rec.Body.String())
			}
		})
	})
}

func userID(t *testing.T, a *accounttest.App, tenantID, email string) string {
	t.Helper()
	u, err := a.Users.ByEmail(context.Background(), tenantID, email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestVersions: every write to a tenant's settings or allowlists bumps its security version
// (another tenant's stays), every write to a user's row or role assignments bumps the user's
// version by one, and deleting a user or a tenant still cascades.
func TestVersions(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		c := newCluster(t, db)
		other, _ := c.a.CreateUser("Other Bank", "owner@other.test", ownerPass, "owner", false)
		version := func(tenantID string) int64 {
			t.Helper()
			var v []int64
			if err := migratetest.Beneath(t, db).Gorm.Table("security_versions").Where("tenant_id = ?", tenantID).Pluck("version", &v).Error; err != nil {
				t.Fatal(err)
			}
			if len(v) == 0 {
				return 0
			}
			return v[0]
		}
		ctx := context.Background()
		steps := []struct {
			name  string
			write func() error
		}{
			{"first list", func() error {
				_, err := c.a.Accounts.SetAllowlist(ctx, c.owner, account.SetAllowlistInput{Entries: []string{insideNet}})
				return err
			}},
			{"list replaced", func() error {
				_, err := c.a.Accounts.SetAllowlist(ctx, c.owner, account.SetAllowlistInput{Entries: []string{outsideNet}})
				return err
			}},
			{"list removed", func() error {
				_, err := c.a.Accounts.SetAllowlist(ctx, c.owner, account.SetAllowlistInput{})
				return err
			}},
			{"first setting", func() error { return c.a.Accounts.SetSessionPolicy(ctx, c.owner, signin.DefaultSessionPolicy()) }},
			{"setting changed", func() error {
				return c.a.Accounts.SetMFAPolicy(ctx, c.owner, account.MFAPolicy{GraceSignIns: 2})
			}},
			{"suspension", func() error {
				return c.a.Accounts.SuspendAllowlists(ctx, c.owner, c.tn.ID, c.a.Clock.Now().Add(time.Hour))
			}},
		}
		last := version(c.tn.ID)
		for _, s := range steps {
			if err := s.write(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if v := version(c.tn.ID); v <= last {
				t.Errorf("%s: version %d, want more than %d", s.name, v, last)
			} else {
				last = v
			}
		}
		if v := version(other.ID); v != 0 {
			t.Errorf("other tenant's version = %d, want 0", v)
		}
		// A user's version moves with their row and their role assignments; deleting a user
		// (whose assignments cascade) still works.
		userVersion := func(id string) int64 {
			t.Helper()
			var v []int64
			if err := migratetest.Beneath(t, db).Gorm.Table("users").Where("id = ?", id).Pluck("version", &v).Error; err != nil || len(v) != 1 {
				t.Fatalf("user version: %v, %v", v, err)
			}
			return v[0]
		}
		agentID := userID(t, c.a, c.tn.ID, agentEmail)
		last = userVersion(agentID)
		for _, step := range []struct {
			name string
			q    string
		}{
			{"row updated", "UPDATE users SET display_name = 'Agent' WHERE id = ?"},
			{"role granted", "INSERT INTO role_assignments (id, tenant_id, user_id, role, created_at) SELECT 'ra-1', tenant_id, id, 'auditor', created_at FROM users WHERE id = ?"},
			{"role changed", "UPDATE role_assignments SET role = 'supervisor' WHERE id = 'ra-1' AND user_id = ?"},
			{"role taken", "DELETE FROM role_assignments WHERE id = 'ra-1' AND user_id = ?"},
		} {
			if err := migratetest.Beneath(t, db).Gorm.Exec(step.q, agentID).Error; err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if v := userVersion(agentID); v != last+1 {
				t.Errorf("%s: user version %d, want %d", step.name, v, last+1)
			} else {
				last = v
			}
		}
		if err := migratetest.Beneath(t, db).Gorm.Exec("DELETE FROM users WHERE id = ?", agentID).Error; err != nil {
			t.Fatalf("delete user: %v", err)
		}
		if err := migratetest.Beneath(t, db).Gorm.Exec("DELETE FROM tenants WHERE id = ?", c.tn.ID).Error; err != nil {
			t.Fatalf("delete tenant: %v", err)
		}
		if v := version(c.tn.ID); v != 0 {
			t.Errorf("deleted tenant's version row remains (%d)", v)
		}
	})
}

// BenchmarkAuthenticate is the session check of every console request on SQLite, with the
// tenant's settings, allowlists and the user cached: one query, no write (the last-seen time is
// written at most once a minute and the test clock stands still).
func BenchmarkAuthenticate(b *testing.B) {
	a := accounttest.New(b, migratetest.Open(b, migrations.SQLite), nil)
	tn, _ := a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
	ctx := context.Background()
	by := account.Actor{TenantID: tn.ID, UserID: "bench", System: true}
	if _, err := a.Accounts.SetAllowlist(ctx, by, account.SetAllowlistInput{Entries: []string{insideNet}}); err != nil {
		b.Fatal(err)
	}
	res, err := a.Accounts.SignIn(ctx, account.Credentials{Tenant: tn.Slug, Email: ownerEmail, Password: ownerPass},
		account.Origin{IP: "198.51.100.7"})
	if err != nil {
		b.Fatal(err)
	}
	o := account.Origin{IP: "198.51.100.7", RequestID: "bench"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Accounts.Authenticate(ctx, res.Session.Token, o); err != nil {
			b.Fatal(err)
		}
	}
}

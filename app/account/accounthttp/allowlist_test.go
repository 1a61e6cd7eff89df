package accounthttp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounthttp"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestAllowlist: the tenant's list applies at sign-in and on every request, for IPv4 and IPv6,
// with the client address taken through trusted proxies only.
func TestAllowlist(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, map[string]string{"PARLEY_TRUSTED_PROXIES": "10.0.0.0/8"})
		tn, _ := a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
		admin := a.Client("203.0.113.9:1000")
		rec := admin.Login(tn.Slug, ownerEmail, ownerPass, nil)
		admin.CSRF = decode[struct {
			CSRFToken string `json:"csrf_token"`
		}](t, rec).CSRFToken
		a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		outside := signedIn(t, a, tn, agentEmail, agentPass) // from 198.51.100.7, before the list exists

		rec = admin.Do(http.MethodPut, "/api/v1/security/allowlists/tenant", `{"entries":["203.0.113.0/24","2001:db8:1::/48"]}`)
		if rec.Code != http.StatusOK {
			t.Fatalf("set list: %d %s", rec.Code, rec.Body.String())
		}
		if got := decode[accounthttp.AllowlistBody](t, rec).Entries; strings.Join(got, ",") != "203.0.113.0/24,2001:db8:1::/48" {
			t.Errorf("stored entries = %v", got)
		}
		cases := []struct {
			name       string
			remoteAddr string
			xff        string
			allowed    bool
		}{
			{"IPv4 inside", "203.0.113.77:5000", "", true},
			{"IPv4 outside", "198.51.100.7:5000", "", false},
			{"IPv6 inside", "[2001:db8:1:2::5]:443", "", true},
			{"IPv6 outside", "[2001:db8:2::5]:443", "", false},
			{"IPv4-mapped IPv6 inside", "[::ffff:203.0.113.5]:443", "", true},
			{"behind a trusted proxy, client inside", "10.1.2.3:443", "203.0.113.8", true},
			{"behind a trusted proxy, client outside", "10.1.2.3:443", "198.51.100.7", false},
			{"untrusted peer claiming an inside address", "198.51.100.7:443", "203.0.113.8", false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := a.Client(tc.remoteAddr)
				if tc.xff != "" {
					c.Header.Set("X-Forwarded-For", tc.xff)
				}
				rec := c.Login(tn.Slug, agentEmail, agentPass, nil)
				if tc.allowed {
					if rec.Code != http.StatusOK {
						t.Fatalf("sign-in: %d %s", rec.Code, rec.Body.String())
					}
					return
				}
				wantError(t, rec, http.StatusForbidden, "ip_not_allowed")
			})
		}
		// An existing session from outside the list is refused on its next request.
		wantError(t, outside.Do(http.MethodGet, "/api/v1/auth/session", ""), http.StatusForbidden, "ip_not_allowed")
		if ev := a.Audit.Find(account.ActionIPDenied); len(ev) < 5 {
			t.Errorf("%d ip-denied events, want at least 5", len(ev))
		}
		// An address outside the list learns nothing about passwords: a wrong one is refused the same way.
		wantError(t, a.Client("198.51.100.7:1").Login(tn.Slug, agentEmail, "Wrong guess 123456", nil), http.StatusForbidden, "ip_not_allowed")

		t.Run("malformed entries are named", func(t *testing.T) {
			b := wantError(t, admin.Do(http.MethodPut, "/api/v1/security/allowlists/tenant", `{"entries":["203.0.113.0/24","10.0.0.300/8","2001:db8::/129"]}`),
				http.StatusBadRequest, "invalid_allowlist")
			for _, want := range []string{`entry 2 "10.0.0.300/8"`, `entry 3 "2001:db8::/129"`} {
				if !strings.Contains(b.Error.Message, want) {
					t.Errorf("message %q does not name %s", b.Error.Message, want)
				}
			}
		})
		t.Run("a list that shuts the administrator out needs confirming", func(t *testing.T) {
			b := wantError(t, admin.Do(http.MethodPut, "/api/v1/security/allowlists/tenant", `{"entries":["192.0.2.0/24"]}`),
				http.StatusConflict, "allowlist_excludes_you")
			if !strings.Contains(string(b.Error.Details), "203.0.113.9") {
				t.Errorf("details %s do not name the administrator's address", b.Error.Details)
			}
			if rec := admin.Do(http.MethodPut, "/api/v1/security/allowlists/tenant", `{"entries":["192.0.2.0/24"],"confirm_self_exclusion":true}`); rec.Code != http.StatusOK {
				t.Fatalf("confirmed: %d %s", rec.Code, rec.Body.String())
			}
			wantError(t, admin.Do(http.MethodGet, "/api/v1/auth/session", ""), http.StatusForbidden, "ip_not_allowed")
		})
		t.Run("emergency suspension from the server", func(t *testing.T) {
			err := a.Accounts.SuspendAllowlists(context.Background(), account.Actor{TenantID: tn.ID, UserID: "cli", System: true},
				tn.ID, a.Clock.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if rec := admin.Do(http.MethodGet, "/api/v1/auth/session", ""); rec.Code != http.StatusOK {
				t.Fatalf("during the suspension: %d %s", rec.Code, rec.Body.String())
			}
			if ev := a.Audit.Find(account.ActionEmergencyAccess); len(ev) != 1 || ev[0].ActorKind != account.ActorSystem {
				t.Errorf("emergency-access events = %+v", ev)
			}
			a.Clock.Advance(61 * time.Minute)
			wantError(t, a.Client("203.0.113.9:1").Login(tn.Slug, ownerEmail, ownerPass, nil), http.StatusForbidden, "ip_not_allowed")
		})
		if ev := a.Audit.Find(account.ActionAllowlistChange); len(ev) < 3 {
			t.Errorf("%d allowlist-change events, want at least 3", len(ev))
		}
	})
}

// TestRoleAllowlist: a role's list applies to its holders only, after their password.
func TestRoleAllowlist(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		wantError(t, admin.Do(http.MethodPut, "/api/v1/security/allowlists/roles/wizard", `{"entries":["192.0.2.0/24"]}`), http.StatusBadRequest, "invalid_request")
		if rec := admin.Do(http.MethodPut, "/api/v1/security/allowlists/roles/agent", `{"entries":["192.0.2.0/24"]}`); rec.Code != http.StatusOK {
			t.Fatalf("role list: %d %s", rec.Code, rec.Body.String())
		}
		wantError(t, a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, nil), http.StatusForbidden, "ip_not_allowed")
		wantError(t, a.Client(clientAddr).Login(tn.Slug, agentEmail, "Wrong guess 123456", nil), http.StatusUnauthorized, "invalid_credentials")
		if rec := a.Client("192.0.2.44:1").Login(tn.Slug, agentEmail, agentPass, nil); rec.Code != http.StatusOK {
			t.Fatalf("inside the role's list: %d %s", rec.Code, rec.Body.String())
		}
		if rec := a.Client(clientAddr).Login(tn.Slug, ownerEmail, ownerPass, nil); rec.Code != http.StatusOK {
			t.Fatalf("owner, outside the agent list: %d %s", rec.Code, rec.Body.String())
		}
		lists := decode[accounthttp.AllowlistsBody](t, admin.Do(http.MethodGet, "/api/v1/security/allowlists", ""))
		if len(lists.Lists) != 1 || lists.Lists[0].Role != "agent" || lists.YourIP != "198.51.100.7" {
			t.Errorf("lists = %+v", lists)
		}
		// An empty list removes the restriction.
		if rec := admin.Do(http.MethodPut, "/api/v1/security/allowlists/roles/agent", `{"entries":[]}`); rec.Code != http.StatusOK {
			t.Fatalf("clear: %d %s", rec.Code, rec.Body.String())
		}
		if rec := a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, nil); rec.Code != http.StatusOK {
			t.Fatalf("after clearing: %d %s", rec.Code, rec.Body.String())
		}
	})
}

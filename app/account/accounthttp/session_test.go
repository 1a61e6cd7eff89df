package accounthttp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// selfSignedTLS writes a throw-away certificate and key and returns the settings that enable TLS.
func selfSignedTLS(t *testing.T) map[string]string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "parley.test"},
		DNSNames: []string{"parley.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"PARLEY_TLS_CERT": cert, "PARLEY_TLS_KEY": keyPath, "PARLEY_PUBLIC_URL": "https://parley.test"}
}

// TestSessionCookie checks the cookie's flags with and without TLS.
func TestSessionCookie(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		// The three configurations are nodes of one installation: one database, one key provider
		// (the local dev provider's key file in a shared data folder).
		data := t.TempDir()
		cases := []struct {
			name   string
			env    map[string]string
			cookie string
			secure bool
		}{
			{"plain HTTP", nil, "parley_session", false},
			{"TLS", selfSignedTLS(t), "__Host-parley_session", true},
			{"HTTPS behind a proxy", map[string]string{"PARLEY_PUBLIC_URL": "https://chat.example.test"}, "__Host-parley_session", true},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				env := map[string]string{"PARLEY_DATA_DIR": data}
				for k, v := range tc.env {
					env[k] = v
				}
				a := accounttest.New(t, db, env)
				email := []string{"a@acme.test", "b@acme.test", "c@acme.test"}[i]
				tn, _ := a.CreateUser("Acme Bank", email, ownerPass, "owner", false)
				rec := a.Client(clientAddr).Login(tn.Slug, email, ownerPass, nil)
				if rec.Code != http.StatusOK {
					t.Fatalf("login: %d %s", rec.Code, rec.Body.String())
				}
				raw := rec.Header().Values("Set-Cookie")
				if len(raw) != 1 {
					t.Fatalf("Set-Cookie = %q, want one cookie", raw)
				}
				h := raw[0]
				if !strings.HasPrefix(h, tc.cookie+"=") {
					t.Errorf("cookie %q, want name %s", h, tc.cookie)
				}
				for _, want := range []string{"Path=/", "HttpOnly", "SameSite=Strict"} {
					if !strings.Contains(h, want) {
						t.Errorf("cookie %q lacks %s", h, want)
					}
				}
				for _, banned := range []string{"Expires=", "Max-Age=", "Domain="} {
					if strings.Contains(h, banned) {
						t.Errorf("cookie %q has %s: it must end with the browser and stay host-only", h, banned)
					}
				}
				if got := strings.Contains(h, "; Secure"); got != tc.secure {
					t.Errorf("cookie %q: Secure = %v, want %v", h, got, tc.secure)
				}
				value := strings.TrimPrefix(strings.SplitN(h, ";", 2)[0], tc.cookie+"=")
				if len(value) != 43 {
					t.Errorf("token %d characters, want 43 (256 bits, base64url)", len(value))
				}
				var stored int64
				migratetest.Beneath(t, db).Gorm.Model(&account.Session{}).Where("token_hash = ?", value).Count(&stored)
				if stored != 0 {
					t.Errorf("the token itself is stored; only its hash may be")
				}
				migratetest.Beneath(t, db).Gorm.Model(&account.Session{}).Where("token_hash = ?", account.HashToken(value)).Count(&stored)
				if stored != 1 {
					t.Errorf("no session stored under the token's hash")
				}
			})
		}
	})
}

// TestSessionTimeouts: idle 15 minutes and absolute 12 hours by default, and a tenant's own
// values once set; an ended session is audited.
func TestSessionTimeouts(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)

		t.Run("idle", func(t *testing.T) {
			c := signedIn(t, a, tn, agentEmail, agentPass)
			a.Clock.Advance(14*time.Minute + 59*time.Second)
			if rec := c.Do(http.MethodGet, "/api/v1/auth/session", ""); rec.Code != http.StatusOK {
				t.Fatalf("after 14:59 idle: %d %s", rec.Code, rec.Body.String())
			}
			a.Clock.Advance(15 * time.Minute)
			wantError(t, c.Do(http.MethodGet, "/api/v1/auth/session", ""), http.StatusUnauthorized, "session_expired")
			ev := a.Audit.Find(account.ActionSessionExpired)
			if len(ev) == 0 || ev[len(ev)-1].Reason != "idle" {
				t.Errorf("session-expired events = %+v, want reason idle", ev)
			}
		})
		t.Run("absolute", func(t *testing.T) {
			c := signedIn(t, a, tn, agentEmail, agentPass)
			for elapsed := time.Duration(0); elapsed < 12*time.Hour-10*time.Minute; elapsed += 10 * time.Minute {
				a.Clock.Advance(10 * time.Minute)
				if rec := c.Do(http.MethodGet, "/api/v1/auth/session", ""); rec.Code != http.StatusOK {
					t.Fatalf("busy session after %s: %d %s", elapsed+10*time.Minute, rec.Code, rec.Body.String())
				}
			}
			a.Clock.Advance(10 * time.Minute)
			wantError(t, c.Do(http.MethodGet, "/api/v1/auth/session", ""), http.StatusUnauthorized, "session_expired")
			ev := a.Audit.Find(account.ActionSessionExpired)
			if ev[len(ev)-1].Reason != "absolute" {
				t.Errorf("last session-expired reason = %q, want absolute", ev[len(ev)-1].Reason)
			}
		})
		t.Run("tenant policy", func(t *testing.T) {
			admin = signedIn(t, a, tn, ownerEmail, ownerPass)
			rec := admin.Do(http.MethodPut, "/api/v1/security/settings/session", `{"idle_timeout_minutes":5,"absolute_timeout_minutes":60}`)
			if rec.Code != http.StatusOK {
				t.Fatalf("set session policy: %d %s", rec.Code, rec.Body.String())
			}
			c := signedIn(t, a, tn, agentEmail, agentPass)
			a.Clock.Advance(5 * time.Minute)
			wantError(t, c.Do(http.MethodGet, "/api/v1/auth/session", ""), http.StatusUnauthorized, "session_expired")
			wantError(t, admin.Do(http.MethodPut, "/api/v1/security/settings/session", `{"idle_timeout_minutes":16}`),
				http.StatusUnauthorized, "session_expired")
			admin = signedIn(t, a, tn, ownerEmail, ownerPass)
			b := wantError(t, admin.Do(http.MethodPut, "/api/v1/security/settings/session", `{"idle_timeout_minutes":16}`),
				http.StatusBadRequest, "invalid_settings")
			if !strings.Contains(b.Error.Message, "8.2.8") {
				t.Errorf("message %q does not cite PCI DSS 8.2.8", b.Error.Message)
			}
		})
	})
}

// TestCSRF: every state-changing request of a session needs its synchronizer token.
func TestCSRF(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, _ := a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
		c := signedIn(t, a, tn, ownerEmail, ownerPass)
		other := signedIn(t, a, tn, ownerEmail, ownerPass)
		good := c.CSRF
		cases := []struct {
			name, token string
		}{
			{"no token", ""},
			{"wrong token", "not-the-token"},
			{"another session's token", other.CSRF},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c.CSRF = ""
				rec := c.DoRequest(apptest.Request{Method: http.MethodPost, Path: "/api/v1/auth/logout",
					Header: http.Header{"X-Csrf-Token": {tc.token}}})
				if tc.token == "" {
					rec = c.Do(http.MethodPost, "/api/v1/auth/logout", "")
				}
				wantError(t, rec, http.StatusForbidden, "csrf_failed")
			})
		}
		t.Run("form field", func(t *testing.T) {
			c.CSRF = ""
			rec := c.DoRequest(apptest.Request{Method: http.MethodPost, Path: "/logout",
				ContentType: "application/x-www-form-urlencoded", Body: url.Values{"csrf_token": {"bad"}}.Encode()})
			if rec.Code != http.StatusForbidden {
				t.Fatalf("form with a bad token: %d", rec.Code)
			}
			rec = c.DoRequest(apptest.Request{Method: http.MethodPost, Path: "/logout",
				ContentType: "application/x-www-form-urlencoded", Body: url.Values{"csrf_token": {good}}.Encode()})
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("form with the token: %d %s", rec.Code, rec.Body.String())
			}
		})
		t.Run("sign-in form", func(t *testing.T) {
			b := a.Client(clientAddr)
			form := url.Values{"tenant": {tn.Slug}, "email": {ownerEmail}, "password": {ownerPass}, "csrf_token": {"guess"}}
			rec := b.DoRequest(apptest.Request{Method: http.MethodPost, Path: "/login", ContentType: "application/x-www-form-urlencoded", Body: form.Encode()})
			if rec.Code != http.StatusForbidden {
				t.Fatalf("sign-in form without its cookie: %d", rec.Code)
			}
		})
		t.Run("cross-site", func(t *testing.T) {
			c.CSRF = other.CSRF
			rec := other.DoRequest(apptest.Request{Method: http.MethodPost, Path: "/api/v1/auth/logout",
				Header: http.Header{"Origin": {"https://evil.example"}}})
			wantError(t, rec, http.StatusForbidden, "csrf_failed")
		})
	})
}

// TestSessionLifecycle: a new token on every sign-in, none after sign-out, sessions listed and
// ended by their user, and by an administrator for others.
func TestSessionLifecycle(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		tn, admin := adminAndTenant(t, a)
		_, agent := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
		c1 := signedIn(t, a, tn, agentEmail, agentPass)
		c2 := signedIn(t, a, tn, agentEmail, agentPass)
		t1, t2 := c1.Cookie("parley_session").Value, c2.Cookie("parley_session").Value
		if t1 == t2 {
			t.Fatal("two sign-ins share a token")
		}
		list := decode[struct {
			Sessions []struct {
				ID      string `json:"id"`
				Current bool   `json:"current"`
			} `json:"sessions"`
		}](t, c1.Do(http.MethodGet, "/api/v1/account/sessions", ""))
		if len(list.Sessions) != 2 {
			t.Fatalf("sessions = %+v, want 2", list.Sessions)
		}
		var otherID string
		for _, s := range list.Sessions {
			if !s.Current {
				otherID = s.ID
			}
		}
		if rec := c1.Do(http.MethodDelete, "/api/v1/account/sessions/"+otherID, ""); rec.Code != http.StatusNoContent {
			t.Fatalf("revoke own: %d %s", rec.Code, rec.Body.String())
		}
		wantError(t, c2.Do(http.MethodGet, "/api/v1/auth/session", ""), http.StatusUnauthorized, "unauthenticated")
		// An agent may not see or end an administrator's sessions.
		var ownerID string
		for _, u := range decode[accounthttp_UserList](t, admin.Do(http.MethodGet, "/api/v1/users", "")).Users {
			if u.Email == ownerEmail {
				ownerID = u.ID
			}
		}
		wantError(t, c1.Do(http.MethodGet, "/api/v1/users/"+ownerID+"/sessions", ""), http.StatusForbidden, "forbidden")
		// The administrator ends the agent's session (permission user.manage).
		mine := decode[struct {
			Sessions []struct {
				ID string `json:"id"`
			} `json:"sessions"`
		}](t, admin.Do(http.MethodGet, "/api/v1/users/"+agent.ID+"/sessions", ""))
		if len(mine.Sessions) != 1 {
			t.Fatalf("agent sessions seen by admin = %+v", mine.Sessions)
		}
		if rec := admin.Do(http.MethodDelete, "/api/v1/users/"+agent.ID+"/sessions/"+mine.Sessions[0].ID, ""); rec.Code != http.StatusNoContent {
			t.Fatalf("admin revoke: %d %s", rec.Code, rec.Body.String())
		}
		wantError(t, c1.Do(http.MethodGet, "/api/v1/auth/session", ""), http.StatusUnauthorized, "unauthenticated")
		if n := len(a.Audit.Find(account.ActionSessionRevoke)); n != 2 {
			t.Errorf("%d session-revoke events, want 2", n)
		}
		// A signed-out token is dead on the server too, not only dropped by the client.
		c3 := signedIn(t, a, tn, agentEmail, agentPass)
		token := c3.Cookie("parley_session").Value
		if rec := c3.Do(http.MethodPost, "/api/v1/auth/logout", ""); rec.Code != http.StatusNoContent {
			t.Fatalf("logout: %d", rec.Code)
		}
		rec := a.Do(apptest.Request{Method: http.MethodGet, Path: "/api/v1/auth/session", Header: http.Header{"Cookie": {"parley_session=" + token}}})
		wantError(t, rec, http.StatusUnauthorized, "unauthenticated")
		// The second sign-in reports the first.
		last := decode[struct {
			LastSignIn *struct {
				IP string `json:"ip"`
			} `json:"last_sign_in"`
		}](t, a.Client("203.0.113.9:1").Login(tn.Slug, agentEmail, agentPass, nil))
		if last.LastSignIn == nil || last.LastSignIn.IP != "198.51.100.7" {
			t.Errorf("last_sign_in = %+v, want the previous sign-in from 198.51.100.7", last.LastSignIn)
		}
	})
}

package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault/vaulttest"
)

func TestTransitOutageFailsClosedAndRecovers(t *testing.T) {
	srv := vaulttest.Require(t)
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := ctxT(t)
		proxy := vaulttest.NewProxy(t, srv.HostPort(t))
		tr := newTransit(t, srv, func(c *TransitConfig) {
			c.Address = proxy.URL()
			c.Timeout = 3 * time.Second
			c.RetryWaitMin, c.RetryWaitMax = 20*time.Millisecond, 100*time.Millisecond
		})
		e := newEnvelope(t, db, tr)
		if err := migratetest.Beneath(t, db).Gorm.Exec("CREATE TABLE chat_messages (tenant_id TEXT NOT NULL, scope_id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL)").Error; err != nil {
			t.Fatal(err)
		}
		// send is the chat's contract in miniature: seal, and store only what was sealed.
		send := func(b Binding, text string) error {
			ct, err := e.SealString(ctx, b, text)
			if err != nil {
				return err
			}
			return migratetest.Beneath(t, db).Gorm.Exec("INSERT INTO chat_messages (tenant_id, scope_id, seq, body) VALUES (?, ?, ?, ?)", b.Tenant, b.Scope, b.Seq, ct).Error
		}
		tenant := newTenant(t, db)
		if err := e.CreateTenantKey(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		live := Binding{Tenant: tenant, Scope: "conv-live", Field: FieldMessageBody, Seq: 1}
		idle := Binding{Tenant: tenant, Scope: "conv-idle", Field: FieldMessageBody, Seq: 1}
		fresh := Binding{Tenant: tenant, Scope: "conv-new", Field: FieldMessageBody, Seq: 1}
		for _, b := range []Binding{live, idle} {
			if err := send(b, "before the outage"); err != nil {
				t.Fatalf("send before outage: %v", err)
			}
		}
		var idleCT string
		if err := migratetest.Beneath(t, db).Gorm.Raw("SELECT body FROM chat_messages WHERE scope_id = ?", idle.Scope).Scan(&idleCT).Error; err != nil {
			t.Fatal(err)
		}
		e.Forget(tenant, idle.Scope)

		proxy.Cut()
		const secret = "Outage secret: my card is 4111 1111 1111 1111, CVV 123"
		if err := tr.Health(ctx); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Health with Vault cut off = %v, want ErrUnavailable", err)
		}
		start := time.Now()
		err := send(fresh, secret)
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrDenied) {
			t.Fatalf("send to a new conversation with Vault cut off = %v, want ErrUnavailable", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("failing closed took %s, want a prompt answer", d)
		}
		if strings.Contains(err.Error(), "4111") {
			t.Errorf("error %q carries the plaintext", err)
		}
		if _, err := e.OpenString(ctx, idle, idleCT); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Open of an uncached conversation with Vault cut off = %v, want ErrUnavailable", err)
		}
		// A conversation whose data key is already in memory keeps working: its messages are
		// still sealed under its own key.
		if err := send(Binding{Tenant: tenant, Scope: live.Scope, Field: FieldMessageBody, Seq: 2}, "during the outage"); err != nil {
			t.Errorf("send to a conversation with a cached key = %v, want nil", err)
		}
		assertNowhere(t, db, secret)

		proxy.Restore(t)
		if err := tr.Health(ctx); err != nil {
			t.Fatalf("Health after Vault came back = %v, want nil", err)
		}
		if err := send(fresh, secret); err != nil {
			t.Fatalf("send after Vault came back = %v, want nil", err)
		}
		if got, err := e.OpenString(ctx, idle, idleCT); err != nil || got != "before the outage" {
			t.Errorf("Open after Vault came back = %q, %v", got, err)
		}
		assertNowhere(t, db, secret)
	})
}

// assertNowhere fails when text appears in any stored row or, for SQLite, in the database files.
func assertNowhere(t *testing.T, db *migrations.DB, text string) {
	t.Helper()
	needles := [][]byte{[]byte(text), []byte(base64.StdEncoding.EncodeToString([]byte(text)))}
	for _, table := range []string{"data_keys", "chat_messages"} {
		rows, err := migratetest.Beneath(t, db).Gorm.Raw("SELECT * FROM " + table).Rows()
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var b []byte
				switch x := v.(type) {
				case string:
					b = []byte(x)
				case []byte:
					b = x
				}
				for _, n := range needles {
					if bytes.Contains(b, n) {
						t.Errorf("plaintext found in %s.%s", table, cols[i])
					}
				}
			}
		}
		_ = rows.Close()
	}
	if db.Dialect != migrations.SQLite {
		return
	}
	var seq int
	var name, file string
	if err := migratetest.Beneath(t, db).Gorm.Raw("PRAGMA database_list").Row().Scan(&seq, &name, &file); err != nil || file == "" {
		t.Fatalf("locate SQLite file: %v", err)
	}
	for _, f := range []string{file, file + "-wal", file + "-shm"} {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("plaintext found in the bytes of %s", f)
			}
		}
	}
}

func TestTransitRevokedTokenFailsClosed(t *testing.T) {
	srv := vaulttest.Require(t)
	db := openDB(t, migrations.SQLite)
	ctx := ctxT(t)
	policy := vaulttest.Name("parley-transit-")
	srv.WritePolicy(t, policy, vaulttest.TransitPolicy)
	token := srv.NewToken(t, vaulttest.TokenOptions{Policies: []string{policy}})
	tr := newTransit(t, srv, func(c *TransitConfig) { c.Token = token })
	e := newEnvelope(t, db, tr)
	tenant := newTenant(t, db)
	if _, err := e.Seal(ctx, Binding{Tenant: tenant, Scope: "c1", Field: FieldMessageBody}, []byte("hello")); err != nil {
		t.Fatalf("Seal with a valid token: %v", err)
	}
	srv.RevokeToken(t, token)
	_, err := e.Seal(ctx, Binding{Tenant: tenant, Scope: "c2", Field: FieldMessageBody}, []byte("hello"))
	if !errors.Is(err, ErrDenied) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Seal with a revoked token = %v, want ErrDenied and ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Error("error carries the token")
	}
	if err := tr.Health(ctx); !errors.Is(err, ErrDenied) {
		t.Errorf("Health with a revoked token = %v, want ErrDenied", err)
	}
}

func TestTransitAppRoleReauthenticates(t *testing.T) {
	srv := vaulttest.Require(t)
	db := openDB(t, migrations.SQLite)
	ctx := ctxT(t)
	policy := vaulttest.Name("parley-transit-")
	srv.WritePolicy(t, policy, vaulttest.TransitPolicy)
	role := srv.NewAppRole(t, []string{policy}, "", "")
	t.Setenv("VAULT_TOKEN", "s.not-the-configured-credential")
	tr := newTransit(t, srv, func(c *TransitConfig) {
		c.Token = ""
		c.AppRole = &AppRole{RoleID: role.RoleID, SecretID: role.SecretID}
	})
	if tok := tr.client.Token(); tok != "" {
		t.Fatalf("client token before login is set (from the environment?); want empty")
	}
	e := newEnvelope(t, db, tr)
	tenant := newTenant(t, db)
	if _, err := e.Seal(ctx, Binding{Tenant: tenant, Scope: "c1", Field: FieldMessageBody}, []byte("hello")); err != nil {
		t.Fatalf("Seal after AppRole login: %v", err)
	}
	first := tr.client.Token()
	srv.RevokeToken(t, first)
	if _, err := e.Seal(ctx, Binding{Tenant: tenant, Scope: "c2", Field: FieldMessageBody}, []byte("hello")); err != nil {
		t.Fatalf("Seal after the token was revoked = %v, want a fresh login and success", err)
	}
	if second := tr.client.Token(); second == first || second == "" {
		t.Error("token unchanged after revocation; want a fresh AppRole login")
	}
	// With the secret id destroyed too, logging in again fails: fail closed.
	srv.DestroySecretID(t, role)
	srv.RevokeToken(t, tr.client.Token())
	_, err := e.Seal(ctx, Binding{Tenant: tenant, Scope: "c3", Field: FieldMessageBody}, []byte("hello"))
	if !errors.Is(err, ErrDenied) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Seal with revoked token and destroyed secret id = %v, want ErrDenied and ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), role.SecretID) || strings.Contains(err.Error(), role.RoleID) {
		t.Error("error carries AppRole credentials")
	}
}

func TestTransitRenewsToken(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a token lifetime")
	}
	srv := vaulttest.Require(t)
	policy := vaulttest.Name("parley-transit-")
	srv.WritePolicy(t, policy, vaulttest.TransitPolicy)
	token := srv.NewToken(t, vaulttest.TokenOptions{Policies: []string{policy}, TTL: "3s", ExplicitMaxTTL: "2m", Renewable: true})
	tr := newTransit(t, srv, func(c *TransitConfig) { c.Token = token })
	time.Sleep(6 * time.Second)
	ttl, err := srv.TokenTTL(token)
	if err != nil {
		t.Fatalf("token lookup after twice its TTL = %v; want the token renewed and alive", err)
	}
	if ttl <= 0 {
		t.Errorf("token TTL = %s, want > 0", ttl)
	}
	if err := tr.Health(ctxT(t)); err != nil {
		t.Errorf("Health = %v, want nil", err)
	}
}

func TestTransitCustomCA(t *testing.T) {
	srv := vaulttest.Require(t)
	target, err := url.Parse(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(front.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw})
	ctx := ctxT(t)

	trusted := newTransit(t, srv, func(c *TransitConfig) {
		c.Address = front.URL
		c.TLS = &api.TLSConfig{CACertBytes: caPEM}
	})
	if err := trusted.Health(ctx); err != nil {
		t.Errorf("Health through TLS with the custom CA = %v, want nil", err)
	}
	untrusted := newTransit(t, srv, func(c *TransitConfig) { c.Address = front.URL })
	if err := untrusted.Health(ctx); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Health through TLS without the CA = %v, want ErrUnavailable naming the certificate", err)
	}
	if _, err := NewTransit(TransitConfig{Address: front.URL, Token: "x", TLS: &api.TLSConfig{Insecure: true}}); err == nil {
		t.Error("NewTransit with TLS verification disabled succeeded, want an error")
	}
}

func TestTransitKeyNamesAndTypes(t *testing.T) {
	srv := vaulttest.Require(t)
	ctx := ctxT(t)
	tr := newTransit(t, srv, func(c *TransitConfig) { c.KeyPrefix = "parley-test-" })
	tenant := vaulttest.Name("t")
	name, err := tr.KeyName(tenant)
	if err != nil || name != "parley-test-"+tenant {
		t.Fatalf("KeyName = %q, %v", name, err)
	}
	for range 2 {
		if err := tr.CreateTenantKey(ctx, tenant); err != nil {
			t.Fatalf("CreateTenantKey: %v", err)
		}
	}
	sec, err := srv.Client.Logical().Read("transit/keys/" + name)
	if err != nil || sec == nil {
		t.Fatalf("read key: %v", err)
	}
	if got := sec.Data["type"]; got != "aes256-gcm96" {
		t.Errorf("transit key type = %v, want aes256-gcm96", got)
	}
	if got := sec.Data["exportable"]; got != false {
		t.Errorf("transit key exportable = %v, want false", got)
	}
	// A signing key name that already holds an encryption key is refused.
	if err := tr.EnsureSigningKey(ctx, name); err == nil || !strings.Contains(err.Error(), "ed25519") {
		t.Errorf("EnsureSigningKey over an aes key = %v, want a type error", err)
	}
	if _, err := tr.KeyName("../sys"); !errors.Is(err, ErrInvalidID) {
		t.Errorf("KeyName(../sys) = %v, want ErrInvalidID", err)
	}
	if _, err := tr.GenerateDataKey(ctx, vaulttest.Name("missing")); !errors.Is(err, ErrNoTenantKey) {
		t.Errorf("GenerateDataKey without a tenant key = %v, want ErrNoTenantKey", err)
	}
}

func TestTransitRetriesOnlyTransientErrors(t *testing.T) {
	// A bare HTTP endpoint counts attempts: this checks the client's retry policy, not Vault.
	tests := []struct {
		name     string
		status   int
		attempts int64
		want     error
	}{
		{name: "503 retried", status: http.StatusServiceUnavailable, attempts: 3, want: ErrUnavailable},
		{name: "500 retried", status: http.StatusInternalServerError, attempts: 3, want: ErrUnavailable},
		{name: "501 not retried", status: http.StatusNotImplemented, attempts: 1, want: ErrUnavailable},
		{name: "400 not retried", status: http.StatusBadRequest, attempts: 1},
		{name: "403 not retried", status: http.StatusForbidden, attempts: 1, want: ErrDenied},
		{name: "429 not retried", status: http.StatusTooManyRequests, attempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/transit/keys/parley-tenant-t1" {
					n.Add(1)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"errors":["test answer"]}`))
			}))
			defer hs.Close()
			tr, err := NewTransit(TransitConfig{Address: hs.URL, Token: "t", RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tr.Close() }()
			_, err = tr.TenantKeyStatus(context.Background(), "t1")
			if err == nil {
				t.Fatal("TenantKeyStatus = nil error, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("TenantKeyStatus = %v, want %v", err, tt.want)
			}
			if tt.want == nil && errors.Is(err, ErrUnavailable) {
				t.Errorf("TenantKeyStatus = %v, want a non-retryable error", err)
			}
			if got := n.Load(); got != tt.attempts {
				t.Errorf("attempts = %d, want %d", got, tt.attempts)
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		hs := httptest.NewServer(http.NotFoundHandler())
		addr := hs.URL
		hs.Close()
		tr, err := NewTransit(TransitConfig{Address: addr, Token: "t", RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tr.Close() }()
		if err := tr.Health(context.Background()); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Health against a closed port = %v, want ErrUnavailable", err)
		}
	})
}

func TestNewTransitValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  TransitConfig
	}{
		{name: "no address", cfg: TransitConfig{Token: "t"}},
		{name: "no credentials", cfg: TransitConfig{Address: "http://127.0.0.1:1"}},
		{name: "approle without secret", cfg: TransitConfig{Address: "http://127.0.0.1:1", AppRole: &AppRole{RoleID: "r"}}},
		{name: "insecure TLS", cfg: TransitConfig{Address: "https://127.0.0.1:1", Token: "t", TLS: &api.TLSConfig{Insecure: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tr, err := NewTransit(tt.cfg); err == nil {
				_ = tr.Close()
				t.Error("NewTransit succeeded, want an error")
			}
		})
	}
	t.Run("namespace", func(t *testing.T) {
		t.Setenv("VAULT_NAMESPACE", "from-env")
		tr, err := NewTransit(TransitConfig{Address: "http://127.0.0.1:1", Token: "t", Namespace: "team-a"})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tr.Close() }()
		if got := tr.client.Namespace(); got != "team-a" {
			t.Errorf("namespace = %q, want team-a", got)
		}
		if tr.Kind() != KindTransit || !tr.Production() {
			t.Errorf("Kind/Production = %s/%v, want %s/true", tr.Kind(), tr.Production(), KindTransit)
		}
	})
}

func TestTransitAppRoleLogsInBeforeMaxTTL(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a token lifetime")
	}
	srv := vaulttest.Require(t)
	policy := vaulttest.Name("parley-transit-")
	srv.WritePolicy(t, policy, vaulttest.TransitPolicy)
	role := srv.NewAppRole(t, []string{policy}, "3s", "6s")
	tr := newTransit(t, srv, func(c *TransitConfig) {
		c.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Token = ""
		c.AppRole = &AppRole{RoleID: role.RoleID, SecretID: role.SecretID}
	})
	deadline := time.Now().Add(3 * time.Second)
	for tr.client.Token() == "" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	first := tr.client.Token()
	if first == "" {
		t.Fatal("no AppRole login within 3s of start")
	}
	// The first token dies 6s after its login; token maintenance must replace it before then,
	// without waiting for a request to be refused.
	time.Sleep(5500 * time.Millisecond)
	if tr.client.Token() == first {
		t.Fatal("token not replaced as it approached its maximum lifetime")
	}
	if _, err := srv.TokenTTL(tr.client.Token()); err != nil {
		t.Errorf("replacement token lookup = %v, want a live token", err)
	}
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

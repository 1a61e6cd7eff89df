package vault

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTransitConfigFromEnv(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret-id")
	if err := os.WriteFile(secretFile, []byte("sid-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		wantErr bool
		check   func(t *testing.T, c TransitConfig)
	}{
		{name: "unset", env: map[string]string{}},
		{name: "token", env: map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "tok", "VAULT_NAMESPACE": "ns1"}, ok: true,
			check: func(t *testing.T, c TransitConfig) {
				if c.Address != "https://vault:8200" || c.Token != "tok" || c.Namespace != "ns1" || c.AppRole != nil || c.TLS != nil {
					t.Errorf("config = %+v", c)
				}
			}},
		{name: "approle from file", env: map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "ignored", "VAULT_ROLE_ID": "rid", "VAULT_SECRET_ID_FILE": secretFile, "PARLEY_VAULT_APPROLE_MOUNT": "parley-approle"}, ok: true,
			check: func(t *testing.T, c TransitConfig) {
				if c.AppRole == nil || c.AppRole.RoleID != "rid" || c.AppRole.SecretID != "sid-from-file" || c.AppRole.Mount != "parley-approle" || c.Token != "" {
					t.Errorf("config = %+v, AppRole %+v", c, c.AppRole)
				}
			}},
		{name: "custom CA", env: map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "t", "VAULT_CACERT": "/etc/parley/ca.pem", "PARLEY_VAULT_TRANSIT_MOUNT": "kms"}, ok: true,
			check: func(t *testing.T, c TransitConfig) {
				if c.TLS == nil || c.TLS.CACert != "/etc/parley/ca.pem" || c.Mount != "kms" {
					t.Errorf("config = %+v", c)
				}
			}},
		{name: "no credentials", env: map[string]string{"VAULT_ADDR": "https://vault:8200"}, ok: true, wantErr: true},
		{name: "role without secret", env: map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_ROLE_ID": "rid"}, ok: true, wantErr: true},
		{name: "missing secret file", env: map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_ROLE_ID": "rid", "VAULT_SECRET_ID_FILE": "/nonexistent"}, ok: true, wantErr: true},
		{name: "skip verify", env: map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "s.secret-token", "VAULT_SKIP_VERIFY": "true"}, ok: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok, err := TransitConfigFromEnv(func(k string) string { return tt.env[k] })
			if ok != tt.ok || (err != nil) != tt.wantErr {
				t.Fatalf("TransitConfigFromEnv = ok %v, err %v; want ok %v, error %v", ok, err, tt.ok, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "s.secret-token") || strings.Contains(err.Error(), "sid-")) {
				t.Errorf("error %q carries a credential", err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// Package vaulttest connects tests to the real Vault dev server that `make vault-dev` (or
// scripts/vault-dev start) runs, named by VAULT_ADDR and VAULT_TOKEN. Without them the test is
// skipped, or failed when PARLEY_TEST_REQUIRE_SERVICES=1. It enables the transit engine when
// needed and provides what outage and credential tests need: scoped tokens, AppRole roles, and a
// TCP proxy that can cut Vault off and bring it back.
package vaulttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// Environment variables the helper reads.
const (
	EnvAddr            = "VAULT_ADDR"
	EnvToken           = "VAULT_TOKEN"
	EnvRequireServices = "PARLEY_TEST_REQUIRE_SERVICES"
)

// TransitPolicy is a Vault policy granting what Parley's transit provider needs.
const TransitPolicy = `
path "transit/keys/*"     { capabilities = ["create", "read", "update", "delete"] }
path "transit/datakey/*"  { capabilities = ["update"] }
path "transit/decrypt/*"  { capabilities = ["update"] }
path "transit/encrypt/*"  { capabilities = ["update"] }
path "transit/rewrap/*"   { capabilities = ["update"] }
path "transit/sign/*"     { capabilities = ["update"] }
`

// Server is the Vault dev server under test.
type Server struct {
	// Addr is Vault's URL, e.g. http://127.0.0.1:8201.
	Addr string
	// Token is the root token.
	Token string
	// Client is an API client authenticated with the root token.
	Client *api.Client
}

// Require returns the Vault dev server named by VAULT_ADDR and VAULT_TOKEN with the transit engine
// enabled, or skips the test (fails it when PARLEY_TEST_REQUIRE_SERVICES=1).
func Require(t testing.TB) *Server {
	t.Helper()
	addr, token := os.Getenv(EnvAddr), os.Getenv(EnvToken)
	if addr == "" || token == "" {
		if os.Getenv(EnvRequireServices) == "1" {
			t.Fatalf("%s and %s are not set but %s=1: Vault is required (run `make vault-dev`)", EnvAddr, EnvToken, EnvRequireServices)
		}
		t.Skipf("Vault not configured (%s/%s unset; run `eval \"$(scripts/vault-dev start)\"`)", EnvAddr, EnvToken)
	}
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.Timeout = 10 * time.Second
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatalf("vault client: %v", err)
	}
	c.SetToken(token)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	mounts, err := c.Sys().ListMountsWithContext(ctx)
	if err != nil {
		t.Fatalf("Vault at %s does not answer: %v", addr, err)
	}
	if _, ok := mounts["transit/"]; !ok {
		if err := c.Sys().MountWithContext(ctx, "transit", &api.MountInput{Type: "transit"}); err != nil && !strings.Contains(err.Error(), "path is already in use") {
			t.Fatalf("enable transit: %v", err)
		}
	}
	return &Server{Addr: addr, Token: token, Client: c}
}

// Name returns a unique name with the given prefix, usable as a tenant id or a key name.
func Name(prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

// HostPort returns the host:port Vault listens on.
func (s *Server) HostPort(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(s.Addr)
	if err != nil {
		t.Fatalf("%s: %v", EnvAddr, err)
	}
	return u.Host
}

// WritePolicy installs a policy and removes it when the test ends.
func (s *Server) WritePolicy(t testing.TB, name, rules string) {
	t.Helper()
	if err := s.Client.Sys().PutPolicy(name, rules); err != nil {
		t.Fatalf("write policy %s: %v", name, err)
	}
	t.Cleanup(func() { _ = s.Client.Sys().DeletePolicy(name) })
}

// TokenOptions describe a token for NewToken.
type TokenOptions struct {
	Policies []string
	// TTL and ExplicitMaxTTL are Vault durations ("30s", "1h"); empty for Vault's defaults.
	TTL, ExplicitMaxTTL string
	// Renewable makes the token renewable.
	Renewable bool
}

// NewToken creates a child token of the root token and revokes it when the test ends.
func (s *Server) NewToken(t testing.TB, o TokenOptions) string {
	t.Helper()
	renewable := o.Renewable
	sec, err := s.Client.Auth().Token().Create(&api.TokenCreateRequest{
		Policies:       o.Policies,
		TTL:            o.TTL,
		ExplicitMaxTTL: o.ExplicitMaxTTL,
		Renewable:      &renewable,
		NoParent:       true,
	})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	tok := sec.Auth.ClientToken
	t.Cleanup(func() { _ = s.Client.Auth().Token().RevokeOrphan(tok) })
	return tok
}

// RevokeToken revokes a token at once.
func (s *Server) RevokeToken(t testing.TB, token string) {
	t.Helper()
	if err := s.Client.Auth().Token().RevokeOrphan(token); err != nil {
		t.Fatalf("revoke token: %v", err)
	}
}

// TokenTTL returns the remaining lifetime of a token, or an error when it is invalid.
func (s *Server) TokenTTL(token string) (time.Duration, error) {
	sec, err := s.Client.Auth().Token().Lookup(token)
	if err != nil {
		return 0, err
	}
	return sec.TokenTTL()
}

// AppRole is a role created by NewAppRole.
type AppRole struct {
	Name, RoleID, SecretID string
}

// NewAppRole enables the AppRole auth method if needed, creates a role with the given policies
// and token lifetimes ("" for defaults), issues a secret id, and deletes the role (revoking the
// tokens it issued) when the test ends.
func (s *Server) NewAppRole(t testing.TB, policies []string, tokenTTL, tokenMaxTTL string) AppRole {
	t.Helper()
	auths, err := s.Client.Sys().ListAuth()
	if err != nil {
		t.Fatalf("list auth methods: %v", err)
	}
	if _, ok := auths["approle/"]; !ok {
		if err := s.Client.Sys().EnableAuthWithOptions("approle", &api.EnableAuthOptions{Type: "approle"}); err != nil && !strings.Contains(err.Error(), "path is already in use") {
			t.Fatalf("enable approle: %v", err)
		}
	}
	name := Name("parley-test-")
	data := map[string]any{"token_policies": strings.Join(policies, ",")}
	if tokenTTL != "" {
		data["token_ttl"] = tokenTTL
	}
	if tokenMaxTTL != "" {
		data["token_max_ttl"] = tokenMaxTTL
	}
	if _, err := s.Client.Logical().Write("auth/approle/role/"+name, data); err != nil {
		t.Fatalf("create role: %v", err)
	}
	t.Cleanup(func() { _, _ = s.Client.Logical().Delete("auth/approle/role/" + name) })
	rid, err := s.Client.Logical().Read("auth/approle/role/" + name + "/role-id")
	if err != nil || rid == nil {
		t.Fatalf("read role id: %v", err)
	}
	sid, err := s.Client.Logical().Write("auth/approle/role/"+name+"/secret-id", nil)
	if err != nil || sid == nil {
		t.Fatalf("issue secret id: %v", err)
	}
	return AppRole{Name: name, RoleID: fmt.Sprint(rid.Data["role_id"]), SecretID: fmt.Sprint(sid.Data["secret_id"])}
}

// DestroySecretID invalidates the role's secret id, so logging in again fails.
func (s *Server) DestroySecretID(t testing.TB, r AppRole) {
	t.Helper()
	if _, err := s.Client.Logical().Write("auth/approle/role/"+r.Name+"/secret-id/destroy", map[string]any{"secret_id": r.SecretID}); err != nil {
		t.Fatalf("destroy secret id: %v", err)
	}
}

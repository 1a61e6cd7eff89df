package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/cardform"
	"github.com/parleyhq/parley/app/config"
	"github.com/parleyhq/parley/compliance/secureform"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault"
)

// OpenKeyProvider returns the configured key provider: Vault transit when VAULT_ADDR is set,
// otherwise the local dev provider in the data folder, which is reported as not for production.
// Callers close it with CloseKeyProvider.
func OpenKeyProvider(cfg *config.Config, log *slog.Logger, rnd io.Reader, now func() time.Time) (vault.KeyProvider, error) {
	if !cfg.Vault.Enabled() {
		p, err := vault.OpenLocal(vault.LocalConfig{DataDir: cfg.DataDir, Rand: rnd, Now: now})
		if err != nil {
			return nil, fmt.Errorf("local dev key provider: %w", err)
		}
		log.Warn("using the local dev key provider: not for production; set VAULT_ADDR to use Vault transit", "key_file", p.Path())
		return p, nil
	}
	v := cfg.Vault
	tc := vault.TransitConfig{Address: v.Addr, Token: v.Token, Namespace: v.Namespace, Mount: v.TransitMount, Logger: log}
	if v.RoleID != "" {
		tc.AppRole = &vault.AppRole{RoleID: v.RoleID, SecretID: v.SecretID}
	}
	if v.CACert != "" {
		tc.TLS = &api.TLSConfig{CACert: v.CACert}
	}
	p, err := vault.NewTransit(tc)
	if err != nil {
		return nil, fmt.Errorf("vault transit: %w", err)
	}
	return p, nil
}

// CloseKeyProvider stops a provider's background work (token renewal), if it has any.
func CloseKeyProvider(p vault.KeyProvider) {
	if c, ok := p.(interface{ Close() }); ok {
		c.Close()
	}
}

// keyProviderCheck is the readiness probe of the key provider: it reports which provider is in
// use and whether it is fit for production, and fails when the provider does not answer.
func keyProviderCheck(p vault.KeyProvider) func(ctx context.Context) (map[string]any, error) {
	return func(ctx context.Context) (map[string]any, error) {
		d := map[string]any{"provider": p.Kind(), "production": p.Production()}
		if !p.Production() {
			d["warning"] = "local dev key provider: not for production"
		}
		return d, p.Health(ctx)
	}
}

// mfaSealer encrypts second-factor secrets with the envelope: the scope ("mfa:<user id>") has its
// own data key, bound with the tenant and field into the ciphertext.
type mfaSealer struct{ env *vault.Envelope }

var _ account.SecretSealer = mfaSealer{}

const fieldMFASecret = "mfa.secret"

func (s mfaSealer) Seal(ctx context.Context, tenantID, scope string, plaintext []byte) ([]byte, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	return s.env.Seal(ctx, vault.Binding{Tenant: tenantID, Scope: scope, Field: fieldMFASecret}, plaintext)
}

func (s mfaSealer) Open(ctx context.Context, tenantID, scope string, ciphertext []byte) ([]byte, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	out, err := s.env.Open(ctx, vault.Binding{Tenant: tenantID, Scope: scope, Field: fieldMFASecret}, ciphertext)
	if errors.Is(err, vault.ErrUnavailable) {
		return nil, fmt.Errorf("key provider unavailable: %w", err)
	}
	return out, err
}

// openKeys opens the key provider (unless the caller supplied one) and the envelope over it.
func (a *App) openKeys(opts Options) error {
	a.Keys = opts.Keys
	if a.Keys == nil {
		p, err := OpenKeyProvider(a.Config, a.Log, opts.Rand, opts.Now)
		if err != nil {
			return err
		}
		a.Keys = p
		a.closeKeys = func() { CloseKeyProvider(p) }
	}
	store := vault.NewStore(a.DB, opts.Now)
	env, err := vault.NewEnvelope(vault.EnvelopeConfig{Provider: a.Keys, Store: store, Rand: opts.Rand, Now: opts.Now})
	if err != nil {
		return err
	}
	a.Envelope = env
	a.KeyTools = vault.NewKeys(a.Keys, store, 0)
	return nil
}

// cardOptions turns the configured card-form deployment into the card form's options: the node
// URL other nodes call, a shared peer secret, and an HTTPS tokenization endpoint.
func cardOptions(c config.Cards) (cardform.Options, error) {
	o := cardform.Options{NodeURL: c.NodeURL}
	if c.PeerSecret != "" {
		o.PeerSecret = []byte(c.PeerSecret)
	}
	if c.TokenizerURL != "" {
		t, err := secureform.NewHTTPSTokenizer(secureform.HTTPSTokenizerConfig{
			URL: c.TokenizerURL, Header: "Authorization", Value: c.TokenizerAuth,
		})
		if err != nil {
			return o, fmt.Errorf("card tokenization endpoint: %w", err)
		}
		o.Tokenizer = t
	}
	return o, nil
}

package redaction

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/compliance/redact"
	"github.com/parleyhq/parley/migrations"
)

// Policy is what the chat path applies to a tenant's text before it is stored or delivered:
// card numbers masked in the tenant's mode, then the tenant's enabled redaction rules. It is
// immutable and safe for concurrent use.
type Policy struct {
	Mode   pan.Mode
	Masker *pan.Masker
	Engine *redact.Engine
}

// Apply masks card numbers, then applies the redaction rules.
func (p *Policy) Apply(text string) string {
	text = p.Masker.MaskString(text)
	out, _ := p.Engine.Apply(text)
	return out
}

// MaskString is Apply, for the page tracking that takes a masker.
func (p *Policy) MaskString(text string) string { return p.Apply(text) }

// Policies caches each tenant's compiled Policy. A change on this node takes effect at once
// (Store.Changed → Invalidate); a change made on another node within MaxAge.
type Policies struct {
	Store *Store
	// MaxAge is how long a compiled policy is used before it is read again; zero means 30
	// seconds.
	MaxAge time.Duration
	Now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedPolicy
}

type cachedPolicy struct {
	p  *Policy
	at time.Time
}

// maxCachedTenants bounds the cache.
const maxCachedTenants = 4096

func (ps *Policies) now() time.Time {
	if ps.Now != nil {
		return ps.Now()
	}
	return time.Now()
}

// For returns the tenant's policy. An error (the database is unreachable, a stored rule no
// longer compiles) leaves the caller to fail closed.
func (ps *Policies) For(ctx context.Context, tenantID string) (*Policy, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	maxAge := ps.MaxAge
	if maxAge <= 0 {
		maxAge = 30 * time.Second
	}
	now := ps.now()
	ps.mu.Lock()
	c, ok := ps.cache[tenantID]
	ps.mu.Unlock()
	if ok && now.Sub(c.at) < maxAge {
		return c.p, nil
	}
	p, err := ps.load(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	ps.mu.Lock()
	if ps.cache == nil || len(ps.cache) >= maxCachedTenants {
		ps.cache = map[string]cachedPolicy{}
	}
	ps.cache[tenantID] = cachedPolicy{p: p, at: now}
	ps.mu.Unlock()
	return p, nil
}

// MaskMode returns the tenant's PAN masking mode, for the chat path and the secure form.
func (ps *Policies) MaskMode(ctx context.Context, tenantID string) (pan.Mode, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	p, err := ps.For(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	return p.Mode, nil
}

// Invalidate drops a tenant's cached policy.
func (ps *Policies) Invalidate(tenantID string) {
	ps.mu.Lock()
	delete(ps.cache, tenantID)
	ps.mu.Unlock()
}

func (ps *Policies) load(ctx context.Context, tenantID string) (*Policy, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	mode, err := ps.Store.MaskMode(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	rules, err := ps.Store.Rules(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	masker, err := pan.NewMasker(pan.Options{Mode: mode})
	if err != nil {
		return nil, err
	}
	engine, err := redact.NewEngine(plain(rules))
	if err != nil {
		return nil, err
	}
	return &Policy{Mode: mode, Masker: masker, Engine: engine}, nil
}

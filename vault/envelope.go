package vault

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/migrations"
	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"
)

// EnvelopeConfig configures an Envelope.
type EnvelopeConfig struct {
	// Provider wraps and unwraps the data keys.
	Provider KeyProvider
	// Store keeps the wrapped data keys.
	Store *Store
	// CacheSize bounds the number of plaintext data keys held in memory; default 10000.
	CacheSize int
	// CacheTTL is how long a plaintext data key stays cached after it was fetched; default 15m.
	CacheTTL time.Duration
	// LoadTimeout bounds fetching one data key (database and provider); default 15s.
	LoadTimeout time.Duration
	// Rand is the entropy source for nonces; default crypto/rand.
	Rand io.Reader
	// Now is the clock for cache expiry and stored timestamps; default time.Now.
	Now func() time.Time
}

// Envelope seals and opens the sensitive fields of a scope (a conversation) with AES-256-GCM
// under the scope's own data key. The first Seal of a scope obtains a data key from the provider
// and stores only its wrapped form; later operations use the cached plaintext key, so a
// conversation costs one provider call, not one per message. Concurrent first messages of a
// scope share one provider call. An Envelope is safe for concurrent use.
type Envelope struct {
	provider KeyProvider
	store    *Store
	cache    *keyCache
	flight   singleflight.Group
	rand     io.Reader
	timeout  time.Duration
	closed   atomic.Bool
	stop     chan struct{}
	wg       sync.WaitGroup
}

// NewEnvelope returns an envelope and starts the sweeper that zeroes expired data keys; Close
// stops it.
func NewEnvelope(cfg EnvelopeConfig) (*Envelope, error) {
	if cfg.Provider == nil || cfg.Store == nil {
		return nil, errors.New("envelope: a key provider and a store are required")
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	cfg.CacheTTL = orDuration(cfg.CacheTTL, 15*time.Minute)
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Envelope{
		provider: cfg.Provider,
		store:    cfg.Store,
		cache:    newKeyCache(cfg.CacheSize, cfg.CacheTTL, cfg.Now),
		rand:     cfg.Rand,
		timeout:  orDuration(cfg.LoadTimeout, 15*time.Second),
		stop:     make(chan struct{}),
	}
	e.wg.Add(1)
	go e.sweep(min(cfg.CacheTTL/2, time.Minute))
	return e, nil
}

// Provider returns the key provider, for readiness checks and reports.
func (e *Envelope) Provider() KeyProvider { return e.provider }

// CacheStats reports the data key cache's counters.
func (e *Envelope) CacheStats() CacheStats { return e.cache.snapshot() }

// Close stops the sweeper and zeroes every cached data key. Later calls fail with ErrClosed.
func (e *Envelope) Close() {
	if e.closed.Swap(true) {
		return
	}
	close(e.stop)
	e.wg.Wait()
	e.cache.purge()
}

func (e *Envelope) sweep(every time.Duration) {
	defer e.wg.Done()
	t := time.NewTicker(max(every, time.Second))
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.cache.sweep()
		}
	}
}

// CreateTenantKey creates the tenant's key at the provider (call it when a tenant is created).
func (e *Envelope) CreateTenantKey(ctx context.Context, tenantID string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	return e.provider.CreateTenantKey(ctx, tenantID)
}

// Seal encrypts plaintext for b. The scope's data key is created on first use. On any failure
// nothing is returned but the error: ErrUnavailable when the provider cannot be reached (retry
// later), ErrShredded when the scope was shredded.
func (e *Envelope) Seal(ctx context.Context, b Binding, plaintext []byte) ([]byte, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	aad := b.aad(formatV1)
	out := make([]byte, headerSize, headerSize+len(plaintext)+tagSize)
	out[0] = formatV1
	if _, err := io.ReadFull(e.rand, out[1:headerSize]); err != nil {
		return nil, fmt.Errorf("envelope: %w: entropy: %w", ErrUnavailable, err)
	}
	err := e.withKey(ctx, b.Tenant, b.Scope, true, func(key []byte) error {
		aead, err := newGCM(key)
		if err != nil {
			return fmt.Errorf("envelope: %w: data key damaged", ErrUnreadable)
		}
		out = aead.Seal(out, out[1:headerSize], plaintext, aad) // #nosec G407 -- the nonce was just read from the entropy source
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Open decrypts a ciphertext sealed for b. A ciphertext of another tenant, scope, field or
// sequence number, or an altered one, fails with ErrMismatch; a shredded scope with ErrShredded;
// a scope whose key cannot be unwrapped with ErrUnreadable; an unreachable provider with
// ErrUnavailable.
func (e *Envelope) Open(ctx context.Context, b Binding, ciphertext []byte) ([]byte, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	if len(ciphertext) < minCiphertext {
		return nil, fmt.Errorf("envelope: %w: too short", ErrMalformed)
	}
	if ciphertext[0] != formatV1 {
		return nil, fmt.Errorf("envelope: %w: unknown format %d", ErrMalformed, ciphertext[0])
	}
	aad := b.aad(ciphertext[0])
	var plain []byte
	err := e.withKey(ctx, b.Tenant, b.Scope, false, func(key []byte) error {
		aead, err := newGCM(key)
		if err != nil {
			return fmt.Errorf("envelope: %w: data key damaged", ErrUnreadable)
		}
		p, err := aead.Open(nil, ciphertext[1:headerSize], ciphertext[headerSize:], aad)
		if err != nil {
			return fmt.Errorf("envelope: %w", ErrMismatch)
		}
		plain = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return plain, nil
}

// SealString is Seal for text columns: the ciphertext is returned in standard base64.
func (e *Envelope) SealString(ctx context.Context, b Binding, plaintext string) (string, error) {
	ct, err := e.Seal(ctx, b, []byte(plaintext))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// OpenString opens a ciphertext produced by SealString.
func (e *Envelope) OpenString(ctx context.Context, b Binding, ciphertext string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return "", fmt.Errorf("envelope: %w: not base64", ErrMalformed)
	}
	p, err := e.Open(ctx, b, raw)
	if err != nil {
		return "", err
	}
	return string(p), nil
}

// Shred crypto-shreds a scope: its wrapped data key is deleted (a tombstone stays, so the scope
// never gets a new key) and its cached key zeroed. Every ciphertext of the scope, in the database
// and in every backup, becomes unreadable. Shredding twice is a no-op.
func (e *Envelope) Shred(ctx context.Context, tenantID, scopeID string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if err := validTenantID(tenantID); err != nil {
		return err
	}
	if err := validScopeID(scopeID); err != nil {
		return err
	}
	if err := e.store.Shred(ctx, tenantID, scopeID); err != nil {
		return err
	}
	e.cache.invalidate(cacheID(tenantID, scopeID))
	return nil
}

// ShredIn crypto-shreds a scope inside the caller's transaction tx, so the tombstone commits
// with whatever else the caller removes (a conversation's rows, its audit record) or not at all.
// The cached key is zeroed at once: if tx rolls back, the next use reads the store again.
func (e *Envelope) ShredIn(ctx context.Context, tx *gorm.DB, tenantID, scopeID string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if err := validTenantID(tenantID); err != nil {
		return err
	}
	if err := validScopeID(scopeID); err != nil {
		return err
	}
	if err := e.store.In(tx).Shred(ctx, tenantID, scopeID); err != nil {
		return err
	}
	e.cache.invalidate(cacheID(tenantID, scopeID))
	return nil
}

// Forget drops a scope's data key from memory (for instance when a conversation ends, or when
// another node reports it shredded the scope); the next operation on the scope reads the store
// and unwraps the key again.
func (e *Envelope) Forget(tenantID, scopeID string) {
	e.cache.remove(cacheID(tenantID, scopeID))
}

// DeleteTenantKey offboards a tenant's encrypted data: it destroys the tenant key at the provider
// (every version), then deletes the tenant's wrapped data keys and zeroes its cached keys. Once the
// provider has destroyed the key, no backup can bring the data back.
func (e *Envelope) DeleteTenantKey(ctx context.Context, tenantID string) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if err := validTenantID(tenantID); err != nil {
		return err
	}
	if err := e.provider.DeleteTenantKey(ctx, tenantID); err != nil {
		return err
	}
	e.cache.invalidateTenant(tenantID)
	if _, err := e.store.DeleteTenant(ctx, tenantID); err != nil {
		return err
	}
	return nil
}

// withKey runs fn with the scope's plaintext data key, fetching it (and with create, making it)
// when it is not cached.
func (e *Envelope) withKey(ctx context.Context, tenantID, scopeID string, create bool, fn func(key []byte) error) error {
	ctx = migrations.WithTenant(ctx, tenantID)
	if e.closed.Load() {
		return ErrClosed
	}
	id := cacheID(tenantID, scopeID)
	for range 3 {
		ck := e.cache.get(id)
		if ck == nil {
			var err error
			if ck, err = e.fetch(ctx, id, tenantID, scopeID, create); err != nil {
				return err
			}
		}
		var ferr error
		if ck.use(func(key []byte) { ferr = fn(key) }) {
			return ferr
		}
		// The key was evicted between lookup and use; fetch it again.
	}
	return fmt.Errorf("envelope: %w: data key cache is thrashing; raise CacheSize", ErrUnavailable)
}

// fetch loads a scope's data key once for all concurrent callers. The load runs on a context of
// its own, so one caller giving up does not fail the others.
func (e *Envelope) fetch(ctx context.Context, id, tenantID, scopeID string, create bool) (*cachedKey, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	fk := "o\x00" + id
	if create {
		fk = "c\x00" + id
	}
	ch := e.flight.DoChan(fk, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.timeout)
		defer cancel()
		for range 3 {
			if ck := e.cache.peek(id); ck != nil {
				return ck, nil
			}
			epoch := e.cache.epoch()
			key, err := e.load(lctx, tenantID, scopeID, create)
			if err != nil {
				return nil, err
			}
			if ck := e.cache.putIfEpoch(id, key, epoch); ck != nil {
				return ck, nil
			}
			// A shred happened while loading: load again, which sees the tombstone if it was this scope.
		}
		return nil, fmt.Errorf("envelope: %w: scope keeps changing while loading", ErrUnavailable)
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("envelope: %w: %w", ErrUnavailable, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*cachedKey), nil
	}
}

// load reads the scope's wrapped key and unwraps it, or, with create and no key stored yet,
// generates one and stores its wrapped form. If the tenant has no key at the provider yet (a
// tenant created before encryption was enabled) it is created.
func (e *Envelope) load(ctx context.Context, tenantID, scopeID string, create bool) ([]byte, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	rec, err := e.store.Get(ctx, tenantID, scopeID)
	switch {
	case err == nil:
		if rec.Shredded() {
			return nil, fmt.Errorf("envelope: %w: %w", ErrUnreadable, ErrShredded)
		}
		return e.provider.UnwrapDataKey(ctx, tenantID, rec.Wrapped)
	case !errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("envelope: %w", err)
	case !create:
		return nil, fmt.Errorf("envelope: %w: %w", ErrUnreadable, ErrNotFound)
	}
	dk, err := e.provider.GenerateDataKey(ctx, tenantID)
	if errors.Is(err, ErrNoTenantKey) {
		if err := e.provider.CreateTenantKey(ctx, tenantID); err != nil {
			return nil, err
		}
		dk, err = e.provider.GenerateDataKey(ctx, tenantID)
	}
	if err != nil {
		return nil, err
	}
	inserted, err := e.store.Insert(ctx, tenantID, scopeID, dk.Wrapped, dk.KeyVersion)
	if err != nil || !inserted {
		clear(dk.Plaintext)
		if err != nil {
			return nil, fmt.Errorf("envelope: %w", err)
		}
		// Another node stored a key (or a tombstone) first: use what is stored.
		return e.load(ctx, tenantID, scopeID, false)
	}
	return dk.Plaintext, nil
}

package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault/vaulttest"
)

// sealed is one field sealed in a test, with what it should open to.
type sealed struct {
	b     Binding
	ct    []byte
	plain string
}

func sealN(t *testing.T, e *Envelope, tenant, prefix string, n int) []sealed {
	t.Helper()
	ctx := ctxT(t)
	out := make([]sealed, 0, n)
	for i := range n {
		s := sealed{b: Binding{Tenant: tenant, Scope: fmt.Sprintf("%s%03d", prefix, i), Field: FieldMessageBody, Seq: 1}, plain: fmt.Sprint("said in ", prefix, i)}
		ct, err := e.Seal(ctx, s.b, []byte(s.plain))
		if err != nil {
			t.Fatalf("Seal %s: %v", s.b.Scope, err)
		}
		s.ct = ct
		out = append(out, s)
	}
	return out
}

func openAll(t *testing.T, e *Envelope, items []sealed) {
	t.Helper()
	ctx := ctxT(t)
	for _, s := range items {
		got, err := e.Open(ctx, s.b, s.ct)
		if err != nil || string(got) != s.plain {
			t.Errorf("Open %s = %q, %v; want %q", s.b.Scope, got, err, s.plain)
		}
	}
}

func TestRotateRewrapAndMinVersion(t *testing.T) {
	eachProvider(t, func(t *testing.T, db *migrations.DB, p KeyProvider) {
		ctx := ctxT(t)
		store := NewStore(db, nil)
		keys := NewKeys(p, store, 2)
		e := newEnvelope(t, db, p)
		tenant := newTenant(t, db)
		if err := p.CreateTenantKey(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		old := sealN(t, e, tenant, "old", 5)
		oldRec, err := store.Get(ctx, tenant, "old000")
		if err != nil {
			t.Fatal(err)
		}

		st, err := keys.Rotate(ctx, tenant)
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		if st.LatestVersion != 2 || st.MinDecryptionVersion != 1 || len(st.Versions) != 2 || st.LastRotation.IsZero() {
			t.Fatalf("status after rotation = %+v, want latest 2, min 1, two versions, a rotation time", st)
		}
		newer := sealN(t, e, tenant, "new", 2)
		rep, err := keys.Status(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		if rep.WrappedByVersion[1] != 5 || rep.WrappedByVersion[2] != 2 || rep.NeedRewrap != 5 {
			t.Errorf("status = %+v, want 5 keys on v1, 2 on v2, 5 to rewrap", rep)
		}
		if rep.Provider != p.Kind() || rep.Production != p.Production() {
			t.Errorf("status provider = %s/%v, want %s/%v", rep.Provider, rep.Production, p.Kind(), p.Production())
		}

		// Raising the minimum while keys are still on version 1 is refused.
		if err := keys.SetMinDecryptionVersion(ctx, tenant, 2, false); !errors.Is(err, ErrKeysBelowVersion) {
			t.Fatalf("SetMinDecryptionVersion before rewrap = %v, want ErrKeysBelowVersion", err)
		}

		// An interrupted rewrap (cancelled after its first batch) resumes where it stopped.
		cctx, cancel := context.WithCancel(ctx)
		var progress bytes.Buffer
		w := &cancelAfter{w: &progress, lines: 2, cancel: cancel}
		sum, err := keys.Rewrap(cctx, tenant, w)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted Rewrap = %+v, %v; want context.Canceled", sum, err)
		}
		if sum.Rewrapped != 2 || sum.Pending != 5 {
			t.Errorf("interrupted Rewrap summary = %+v, want 2 of 5 rewrapped", sum)
		}
		sum, err = keys.Rewrap(ctx, tenant, &progress)
		if err != nil {
			t.Fatalf("resumed Rewrap: %v", err)
		}
		if sum.Pending != 3 || sum.Rewrapped != 3 || sum.Failed != 0 || sum.TargetVersion != 2 {
			t.Errorf("resumed Rewrap summary = %+v, want the remaining 3 rewrapped to v2", sum)
		}
		if !strings.Contains(progress.String(), "3/3 (100%)") {
			t.Errorf("progress output %q lacks the final 3/3 (100%%) line", progress.String())
		}
		sum, err = keys.Rewrap(ctx, tenant, nil)
		if err != nil || sum.Pending != 0 || sum.Rewrapped != 0 {
			t.Errorf("third Rewrap = %+v, %v; want nothing to do", sum, err)
		}
		rec, err := store.Get(ctx, tenant, "old000")
		if err != nil {
			t.Fatal(err)
		}
		if rec.KeyVersion != 2 || rec.RewrappedAt == nil || rec.Wrapped == oldRec.Wrapped {
			t.Errorf("rewrapped row = %+v, want version 2 with a rewrap time and a new wrapped key", rec)
		}

		// Old conversations are still readable, through the cache and after a restart.
		openAll(t, e, old)
		openAll(t, newEnvelope(t, db, p), append(old, newer...))

		if err := keys.SetMinDecryptionVersion(ctx, tenant, 2, false); err != nil {
			t.Fatalf("SetMinDecryptionVersion after rewrap: %v", err)
		}
		if err := keys.SetMinDecryptionVersion(ctx, tenant, 3, true); !errors.Is(err, ErrInvalidVersion) {
			t.Errorf("SetMinDecryptionVersion above latest = %v, want ErrInvalidVersion", err)
		}
		st, err = p.TenantKeyStatus(ctx, tenant)
		if err != nil || st.MinDecryptionVersion != 2 {
			t.Fatalf("status = %+v, %v; want min decryption version 2", st, err)
		}
		// Everything rewrapped stays readable; a copy of a key wrapped under version 1 (an old
		// backup of the row) no longer unwraps.
		openAll(t, newEnvelope(t, db, p), append(old, newer...))
		if _, err := p.UnwrapDataKey(ctx, tenant, oldRec.Wrapped); !errors.Is(err, ErrUnreadable) || errors.Is(err, ErrUnavailable) {
			t.Errorf("unwrap of a version-1 key after raising the minimum = %v, want ErrUnreadable", err)
		}
	})
}

// cancelAfter cancels a context once lines progress lines were written.
type cancelAfter struct {
	w      *bytes.Buffer
	lines  int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.lines -= bytes.Count(p, []byte("\n"))
	if c.lines <= 0 {
		c.cancel()
	}
	return c.w.Write(p)
}

func TestForcedMinVersionRetiresOnlyOldScopes(t *testing.T) {
	eachProvider(t, func(t *testing.T, db *migrations.DB, p KeyProvider) {
		ctx := ctxT(t)
		keys := NewKeys(p, NewStore(db, nil), 0)
		e := newEnvelope(t, db, p)
		tenant := newTenant(t, db)
		old := sealN(t, e, tenant, "old", 1)
		if _, err := keys.Rotate(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		newer := sealN(t, e, tenant, "new", 1)
		if err := keys.SetMinDecryptionVersion(ctx, tenant, 2, true); err != nil {
			t.Fatal(err)
		}
		fresh := newEnvelope(t, db, p)
		if _, err := fresh.Open(ctx, old[0].b, old[0].ct); !errors.Is(err, ErrUnreadable) || errors.Is(err, ErrUnavailable) {
			t.Errorf("Open of a scope wrapped under a retired version = %v, want ErrUnreadable", err)
		}
		openAll(t, fresh, newer)
		rep, err := keys.Status(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Retired != 1 || rep.Key.MinDecryptionVersion != 2 {
			t.Errorf("status = %+v, want 1 retired key and min version 2", rep)
		}
		// A rewrap cannot rescue a key below the minimum: it is reported, the rest carries on.
		sum, err := keys.Rewrap(ctx, tenant, nil)
		if !errors.Is(err, ErrRewrapIncomplete) || sum.Failed != 1 {
			t.Errorf("Rewrap with a retired key = %+v, %v; want 1 failed and ErrRewrapIncomplete", sum, err)
		}
	})
}

func TestShredMakesScopeUnreadable(t *testing.T) {
	eachProvider(t, func(t *testing.T, db *migrations.DB, p KeyProvider) {
		ctx := ctxT(t)
		store := NewStore(db, nil)
		e := newEnvelope(t, db, p)
		tenant := newTenant(t, db)
		items := sealN(t, e, tenant, "conv", 2)
		gone, kept := items[0], items[1]
		if err := e.Shred(ctx, tenant, gone.b.Scope); err != nil {
			t.Fatalf("Shred: %v", err)
		}
		if err := e.Shred(ctx, tenant, gone.b.Scope); err != nil {
			t.Fatalf("second Shred: %v", err)
		}
		for name, env := range map[string]*Envelope{"same envelope": e, "fresh envelope": newEnvelope(t, db, p)} {
			_, err := env.Open(ctx, gone.b, gone.ct)
			if !errors.Is(err, ErrShredded) || !errors.Is(err, ErrUnreadable) {
				t.Errorf("%s: Open of a shredded scope = %v, want ErrShredded and ErrUnreadable", name, err)
			}
			if _, err := env.Seal(ctx, gone.b, []byte("more")); !errors.Is(err, ErrShredded) {
				t.Errorf("%s: Seal into a shredded scope = %v, want ErrShredded", name, err)
			}
			openAll(t, env, []sealed{kept})
		}
		rec, err := store.Get(ctx, tenant, gone.b.Scope)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Wrapped != "" || rec.KeyVersion != 0 || !rec.Shredded() {
			t.Errorf("shredded row = %+v, want no wrapped key and a shred time", rec)
		}
		// Shredding a scope that never had a key leaves a tombstone too.
		never := vaulttest.Name("n")
		if err := e.Shred(ctx, tenant, never); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Seal(ctx, Binding{Tenant: tenant, Scope: never, Field: FieldMessageBody}, []byte("x")); !errors.Is(err, ErrShredded) {
			t.Errorf("Seal into a scope shredded before use = %v, want ErrShredded", err)
		}
		rep, err := NewKeys(p, store, 0).Status(ctx, tenant)
		if err != nil || rep.Shredded != 2 || rep.WrappedByVersion[1] != 1 {
			t.Errorf("status = %+v, %v; want 2 shredded and 1 live key", rep, err)
		}
	})
}

func TestCorruptedWrappedKeyIsolated(t *testing.T) {
	eachProvider(t, func(t *testing.T, db *migrations.DB, p KeyProvider) {
		ctx := ctxT(t)
		e := newEnvelope(t, db, p)
		tenant := newTenant(t, db)
		items := sealN(t, e, tenant, "conv", 3)
		store := NewStore(db, nil)
		rec, err := store.Get(ctx, tenant, items[1].b.Scope)
		if err != nil {
			t.Fatal(err)
		}
		// Flip one character of the wrapped key's payload (keeping it valid base64).
		w := []byte(rec.Wrapped)
		i := len(w) - 8
		if w[i] == 'A' {
			w[i] = 'B'
		} else {
			w[i] = 'A'
		}
		if err := migratetest.Beneath(t, db).Gorm.Exec("UPDATE data_keys SET wrapped_key = ? WHERE tenant_id = ? AND scope_id = ?", string(w), tenant, rec.ScopeID).Error; err != nil {
			t.Fatal(err)
		}
		fresh := newEnvelope(t, db, p)
		_, err = fresh.Open(ctx, items[1].b, items[1].ct)
		if !errors.Is(err, ErrUnreadable) || errors.Is(err, ErrUnavailable) {
			t.Fatalf("Open with a corrupted wrapped key = %v, want ErrUnreadable and not ErrUnavailable", err)
		}
		if _, err := fresh.Seal(ctx, items[1].b, []byte("more")); !errors.Is(err, ErrUnreadable) {
			t.Errorf("Seal with a corrupted wrapped key = %v, want ErrUnreadable", err)
		}
		openAll(t, fresh, []sealed{items[0], items[2]})
		if err := fresh.provider.Health(ctx); err != nil {
			t.Errorf("provider health after a corrupted key = %v, want nil", err)
		}
	})
}

func TestDeleteTenantKeyOffboards(t *testing.T) {
	eachProvider(t, func(t *testing.T, db *migrations.DB, p KeyProvider) {
		ctx := ctxT(t)
		e := newEnvelope(t, db, p)
		tenant, other := newTenant(t, db), newTenant(t, db)
		gone := sealN(t, e, tenant, "conv", 2)
		kept := sealN(t, e, other, "conv", 1)
		rec, err := NewStore(db, nil).Get(ctx, tenant, gone[0].b.Scope)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.DeleteTenantKey(ctx, tenant); err != nil {
			t.Fatalf("DeleteTenantKey: %v", err)
		}
		if err := e.DeleteTenantKey(ctx, tenant); err != nil {
			t.Fatalf("second DeleteTenantKey: %v", err)
		}
		if _, err := p.TenantKeyStatus(ctx, tenant); !errors.Is(err, ErrNoTenantKey) {
			t.Errorf("TenantKeyStatus after deletion = %v, want ErrNoTenantKey", err)
		}
		// Even a backup of the wrapped key is useless now.
		if _, err := p.UnwrapDataKey(ctx, tenant, rec.Wrapped); !errors.Is(err, ErrUnreadable) {
			t.Errorf("unwrap of a backed-up key after deletion = %v, want ErrUnreadable", err)
		}
		if _, err := e.Open(ctx, gone[0].b, gone[0].ct); !errors.Is(err, ErrUnreadable) {
			t.Errorf("Open after offboarding = %v, want ErrUnreadable", err)
		}
		var n int64
		if err := migratetest.Beneath(t, db).Gorm.Raw("SELECT COUNT(*) FROM data_keys WHERE tenant_id = ?", tenant).Scan(&n).Error; err != nil || n != 0 {
			t.Errorf("data_keys rows of the deleted tenant = %d, %v; want 0", n, err)
		}
		openAll(t, e, kept)
	})
}

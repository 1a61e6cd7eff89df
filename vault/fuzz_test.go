package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// FuzzEnvelopeOpen feeds arbitrary ciphertexts and bindings to Open on a real envelope (SQLite and
// the local provider): it must never panic, never return plaintext with an error, fail only with
// the documented sentinels, and open the one genuine ciphertext only at its own binding.
func FuzzEnvelopeOpen(f *testing.F) {
	db := migratetest.Open(f, migrations.SQLite)
	e := newEnvelope(f, db, newLocal(f))
	tenant := newTenant(f, db)
	ctx := context.Background()
	home := Binding{Tenant: tenant, Scope: "conv-1", Field: FieldMessageBody, Seq: 3}
	plain := []byte("fuzz seed message")
	ct, err := e.Seal(ctx, home, plain)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ct, home.Tenant, home.Scope, home.Field, home.Seq)
	f.Add(ct, home.Tenant, home.Scope, home.Field, int64(4))
	f.Add(ct, home.Tenant, "conv-2", home.Field, home.Seq)
	f.Add(ct[:10], home.Tenant, home.Scope, home.Field, home.Seq)
	f.Add([]byte{}, "", "", "", int64(-1))
	f.Fuzz(func(t *testing.T, data []byte, tn, scope, field string, seq int64) {
		b := Binding{Tenant: tn, Scope: scope, Field: field, Seq: seq}
		got, err := e.Open(ctx, b, data)
		if err != nil {
			if got != nil {
				t.Fatal("Open returned plaintext with an error")
			}
			for _, s := range []error{ErrMalformed, ErrMismatch, ErrInvalidID, ErrUnreadable} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("Open error %v wraps no documented sentinel", err)
		}
		if b != home || !bytes.Equal(data, ct) || !bytes.Equal(got, plain) {
			t.Fatalf("Open accepted a ciphertext at binding %+v", b)
		}
	})
}

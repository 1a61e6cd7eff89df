package vault

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault/vaulttest"
)

// The benchmarks compare, against one Vault, three ways to encrypt chat messages:
//
//	BenchmarkTransitEncryptPerMessage   one transit/encrypt call per message
//	BenchmarkTransitEncryptBatch        transit/encrypt with batch_input (100 messages per call)
//	BenchmarkEnvelopeSeal               Parley's envelope: AES-256-GCM under a cached data key
//
// Each reports msgs/s. Run them in one go:
//
//	go test -run '^$' -bench . -benchtime 3s ./vault/

// benchMessage is a typical chat line, already PAN-masked.
var benchMessage = []byte("Hi, I was charged twice for order 48213 on card 411111******1111 - can you refund one of them?")

func benchTransit(b *testing.B) (*Transit, string) {
	b.Helper()
	srv := vaulttest.Require(b)
	tr := newTransit(b, srv, nil)
	tenant := vaulttest.Name("bench")
	if err := tr.CreateTenantKey(context.Background(), tenant); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.DeleteTenantKey(context.Background(), tenant) })
	name, _ := tr.KeyName(tenant)
	return tr, name
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkTransitEncryptPerMessage(b *testing.B) {
	tr, key := benchTransit(b)
	ctx := context.Background()
	pt := base64.StdEncoding.EncodeToString(benchMessage)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := tr.client.Logical().WriteWithContext(ctx, "transit/encrypt/"+key, map[string]any{"plaintext": pt}); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

func BenchmarkTransitEncryptBatch(b *testing.B) {
	tr, key := benchTransit(b)
	ctx := context.Background()
	pt := base64.StdEncoding.EncodeToString(benchMessage)
	const batch = 100
	items := make([]map[string]any, batch)
	for i := range items {
		items[i] = map[string]any{"plaintext": pt}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		n := min(batch, b.N-done)
		sec, err := tr.client.Logical().WriteWithContext(ctx, "transit/encrypt/"+key, map[string]any{"batch_input": items[:n]})
		if err != nil {
			b.Fatal(err)
		}
		if res, _ := sec.Data["batch_results"].([]any); len(res) != n {
			b.Fatalf("%d batch results, want %d", len(res), n)
		}
	}
	reportRate(b)
}

func BenchmarkEnvelopeSeal(b *testing.B) {
	srv := vaulttest.Require(b)
	for _, perConversation := range []int{0, 20} {
		name := "one-conversation"
		if perConversation > 0 {
			name = fmt.Sprintf("%d-messages-per-conversation", perConversation)
		}
		b.Run(name, func(b *testing.B) {
			db := migratetest.Open(b, migrations.SQLite)
			tr := newTransit(b, srv, nil)
			e := newEnvelope(b, db, tr)
			tenant := newTenant(b, db)
			ctx := context.Background()
			if err := e.CreateTenantKey(ctx, tenant); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = tr.DeleteTenantKey(context.Background(), tenant) })
			bind := Binding{Tenant: tenant, Scope: "conv-0", Field: FieldMessageBody}
			if _, err := e.Seal(ctx, bind, benchMessage); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if perConversation > 0 {
					bind.Scope = fmt.Sprintf("conv-%d", 1+i/perConversation)
				}
				bind.Seq = int64(i)
				if _, err := e.Seal(ctx, bind, benchMessage); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b)
		})
	}
}

func BenchmarkEnvelopeOpen(b *testing.B) {
	srv := vaulttest.Require(b)
	db := migratetest.Open(b, migrations.SQLite)
	tr := newTransit(b, srv, nil)
	e := newEnvelope(b, db, tr)
	tenant := newTenant(b, db)
	ctx := context.Background()
	b.Cleanup(func() { _ = tr.DeleteTenantKey(context.Background(), tenant) })
	bind := Binding{Tenant: tenant, Scope: "conv-0", Field: FieldMessageBody, Seq: 1}
	ct, err := e.Seal(ctx, bind, benchMessage)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := e.Open(ctx, bind, ct); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// BenchmarkStoreMessage measures what encryption adds to storing a message: one INSERT into an
// SQLite table, with the body in plaintext and sealed by the envelope (cached data key).
func BenchmarkStoreMessage(b *testing.B) {
	srv := vaulttest.Require(b)
	for _, sealedBody := range []bool{false, true} {
		name := "plaintext"
		if sealedBody {
			name = "sealed"
		}
		b.Run(name, func(b *testing.B) {
			db := migratetest.Open(b, migrations.SQLite)
			tr := newTransit(b, srv, nil)
			e := newEnvelope(b, db, tr)
			tenant := newTenant(b, db)
			ctx := context.Background()
			b.Cleanup(func() { _ = tr.DeleteTenantKey(context.Background(), tenant) })
			if err := db.Gorm.Exec("CREATE TABLE bench_messages (scope_id TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (scope_id, seq))").Error; err != nil {
				b.Fatal(err)
			}
			bind := Binding{Tenant: tenant, Scope: "conv-0", Field: FieldMessageBody}
			if _, err := e.Seal(ctx, bind, benchMessage); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				bind.Seq = int64(i)
				body := benchMessage
				if sealedBody {
					var err error
					if body, err = e.Seal(ctx, bind, benchMessage); err != nil {
						b.Fatal(err)
					}
				}
				if err := db.Gorm.Exec("INSERT INTO bench_messages (scope_id, seq, body) VALUES (?, ?, ?)", bind.Scope, bind.Seq, body).Error; err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b)
		})
	}
}

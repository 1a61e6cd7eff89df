package transcript

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
	"github.com/parleyhq/parley/vault"
)

// Content search decrypts and scans (SECURITY.md, "Transcript search"). The benchmark measures
// its hot path, scan, over conversations of 20 typical messages sealed by the real envelope
// (local key provider, data keys cached as they are after the first search): the term is absent,
// so every body is opened. It reports conversations scanned per second; a search scans at most
// DefaultMaxScan (200) of them.
//
//	go test -run '^$' -bench Scan -benchtime 2s ./app/transcript/
func BenchmarkScanConversation(b *testing.B) {
	ctx := context.Background()
	db := migratetest.Open(b, migrations.SQLite)
	t, err := tenant.NewStore(db.Gorm, time.Now).CreateTenant(ctx, "Bench Clinic")
	if err != nil {
		b.Fatal(err)
	}
	local, err := vault.OpenLocal(vault.LocalConfig{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	env, err := vault.NewEnvelope(vault.EnvelopeConfig{Provider: local, Store: vault.NewStore(db, nil)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(env.Close)
	ctx = migrations.WithTenant(ctx, t.ID)
	if err := env.CreateTenantKey(ctx, t.ID); err != nil {
		b.Fatal(err)
	}
	const convs, msgs = 50, 20
	type conv struct {
		id   string
		rows []eventRow
	}
	all := make([]conv, convs)
	for i := range all {
		all[i].id = uuid.Must(uuid.NewV7()).String()
		for s := int64(1); s <= msgs; s++ {
			text := fmt.Sprintf("Message %d: I was charged twice for order 48213 on card 411111******1111, can you refund one of them?", s)
			ct, err := env.SealString(ctx, vault.Binding{Tenant: t.ID, Scope: all[i].id, Field: vault.FieldMessageBody, Seq: s}, text)
			if err != nil {
				b.Fatal(err)
			}
			all[i].rows = append(all[i].rows, eventRow{Seq: s, Kind: "message", Body: ct})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := all[i%convs]
		found, err := scan(ctx, env, t.ID, c.id, c.rows, "chargeback dispute")
		if err != nil || found {
			b.Fatalf("scan = %v, %v", found, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "convs/s")
}

// BenchmarkContainsFold is the comparison of one opened body with the term.
func BenchmarkContainsFold(b *testing.B) {
	text := "Message 7: I was charged twice for order 48213 on card 411111******1111, can you refund one of them?"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if containsFold(text, "chargeback dispute") {
			b.Fatal("found")
		}
	}
}

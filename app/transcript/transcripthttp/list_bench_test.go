package transcripthttp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/app/transcript"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// BenchmarkList is the transcript list's query path (scope from the policy, the filtered page of
// 50, names and tags) over 2,000 conversations, for an owner and with a department filter.
//
//	go test -run '^$' -bench List -benchtime 2s ./app/transcript/transcripthttp/
func BenchmarkList(b *testing.B) {
	a := accounttest.New(b, migratetest.Open(b, migrations.SQLite), nil)
	ctx := context.Background()
	tn, owner := a.CreateUser("Bench Clinic", "owner@bench.test", password, "owner", false)
	dept, err := a.Tenants.CreateDepartment(ctx, tn.ID, "Billing")
	if err != nil {
		b.Fatal(err)
	}
	site, err := a.Tenants.CreateSite(ctx, tn.ID, "Main", []string{"https://www.bench.test"})
	if err != nil {
		b.Fatal(err)
	}
	db := migratetest.Beneath(b, a.DB).Gorm
	start := a.Clock.Now().UTC().Add(-30 * 24 * time.Hour)
	for i := 0; i < 2000; i++ {
		var d any
		if i%2 == 0 {
			d = dept.ID
		}
		at := start.Add(time.Duration(i) * time.Minute)
		if err := db.Exec(`INSERT INTO conversations (id, tenant_id, site_id, department_id, visitor_id, status, agent_id, rating, queued_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'ended', ?, ?, ?, ?, ?)`, fmt.Sprintf("00000000-0000-7000-8000-%012d", i), tn.ID, site.ID, d,
			fmt.Sprintf("visitor-%d", i), owner.ID, 1+i%5, at, at, at).Error; err != nil {
			b.Fatal(err)
		}
	}
	p := &identity.Principal{TenantID: tn.ID, UserID: owner.ID}
	for _, bc := range []struct {
		name string
		f    transcript.Filter
	}{
		{name: "all", f: transcript.Filter{}},
		{name: "department and rating", f: transcript.Filter{DepartmentID: dept.ID, Rating: 5}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				l, err := a.Transcripts.List(ctx, p, bc.f, transcript.Origin{})
				if err != nil || len(l.Items) == 0 {
					b.Fatalf("list: %d, %v", len(l.Items), err)
				}
			}
		})
	}
}

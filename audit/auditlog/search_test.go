package auditlog

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestSearch(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		clock := newTestClock()
		clock.step = time.Minute
		l := newTestLog(t, db, clock)
		start := clock.Now()
		events := []audit.Event{
			{Tenant: "t1", Actor: audit.Actor{ID: "alice", Role: "owner", Kind: audit.ActorUser}, Action: audit.ActionSignInSuccess, Target: audit.Target{Kind: "user", ID: "alice"}, Outcome: audit.Success},
			{Tenant: "t1", Actor: audit.Actor{ID: "bob", Kind: audit.ActorUser}, Action: audit.ActionSignInFailure, Target: audit.Target{Kind: "user", ID: "bob"}, Outcome: audit.Failure, Reason: "invalid_credentials"},
			{Tenant: "t1", Actor: audit.Actor{ID: "alice", Kind: audit.ActorUser}, Action: audit.ActionRoleAssign, Target: audit.Target{Kind: "user", ID: "carol"}, Outcome: audit.Success, Details: map[string]string{"role": "Supervisor_100%"}},
			{Tenant: "t1", Actor: audit.Actor{ID: "carol", Kind: audit.ActorUser}, Action: audit.ActionTranscriptView, Target: audit.Target{Kind: "conversation", ID: "c-42"}, Outcome: audit.Success, Origin: audit.Origin{IP: "198.51.100.7"}},
			{Tenant: "t2", Actor: audit.Actor{ID: "alice", Kind: audit.ActorUser}, Action: audit.ActionSignInSuccess, Target: audit.Target{Kind: "user", ID: "alice"}, Outcome: audit.Success},
		}
		for _, e := range events {
			if err := l.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		seal(t, l)
		mid := start.Add(150 * time.Second) // after the 2nd event of t1, before the 3rd

		cases := []struct {
			name string
			q    Query
			want []int64
		}{
			{"all of a tenant", Query{Tenant: "t1"}, []int64{4, 3, 2, 1}},
			{"other tenant", Query{Tenant: "t2"}, []int64{1}},
			{"actor", Query{Tenant: "t1", ActorID: "alice"}, []int64{3, 1}},
			{"actions", Query{Tenant: "t1", Actions: []audit.Action{audit.ActionSignInSuccess, audit.ActionSignInFailure}}, []int64{2, 1}},
			{"outcome", Query{Tenant: "t1", Outcome: audit.Failure}, []int64{2}},
			{"target", Query{Tenant: "t1", TargetKind: "conversation", TargetID: "c-42"}, []int64{4}},
			{"from", Query{Tenant: "t1", From: mid}, []int64{4, 3}},
			{"to", Query{Tenant: "t1", To: mid}, []int64{2, 1}},
			{"keyword in reason, any case", Query{Tenant: "t1", Keyword: "INVALID_cred"}, []int64{2}},
			{"keyword in details", Query{Tenant: "t1", Keyword: "supervisor"}, []int64{3}},
			{"keyword wildcards are literal", Query{Tenant: "t1", Keyword: "100%"}, []int64{3}},
			{"keyword underscore is literal", Query{Tenant: "t1", Keyword: "alic_"}, nil},
			{"keyword in ip", Query{Tenant: "t1", Keyword: "198.51.100"}, []int64{4}},
			{"keyword no match", Query{Tenant: "t1", Keyword: "mallory"}, nil},
			{"before cursor", Query{Tenant: "t1", Before: 3}, []int64{2, 1}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p, err := l.Search(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, e := range p.Entries {
					got = append(got, e.Seq)
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("got seqs %v, want %v", got, tc.want)
				}
			})
		}

		t.Run("pagination", func(t *testing.T) {
			var got []int64
			q := Query{Tenant: "t1", Limit: 3}
			for pages := 0; ; pages++ {
				p, err := l.Search(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range p.Entries {
					got = append(got, e.Seq)
				}
				if p.Next == 0 {
					break
				}
				if pages > 5 {
					t.Fatal("pagination does not end")
				}
				q.Before = p.Next
			}
			if fmt.Sprint(got) != "[4 3 2 1]" {
				t.Errorf("got %v over pages, want [4 3 2 1]", got)
			}
		})

		for _, bad := range []Query{{}, {Tenant: "t1", Outcome: "maybe"}, {Tenant: "t1", From: mid, To: start}} {
			if _, err := l.Search(ctx, bad); !errors.Is(err, ErrBadQuery) {
				t.Errorf("query %+v: got %v, want ErrBadQuery", bad, err)
			}
		}
	})
}

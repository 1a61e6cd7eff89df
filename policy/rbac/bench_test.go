package rbac

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// benchSource is a tenant with 200 users spread over 10 departments, among 50 tenants.
func benchSource() *memSource {
	src := &memSource{policy: Policy{Version: 1}}
	roles := DefaultRoleNames()
	for t := range 50 {
		tenant := fmt.Sprintf("tenant-%02d", t)
		src.policy.Roles = append(src.policy.Roles, TenantRole{TenantID: tenant, Role: Role{Name: "billing", Permissions: []string{"transcript.view.all", "offline.view.all"}}})
		for u := range 200 {
			a := Assignment{TenantID: tenant, UserID: fmt.Sprintf("%s-user-%03d", tenant, u), Role: roles[u%len(roles)]}
			if u%3 != 0 {
				a.DepartmentID = fmt.Sprintf("%s-dept-%d", tenant, u%10)
			}
			src.policy.Assignments = append(src.policy.Assignments, a)
		}
	}
	return src
}

// BenchmarkAllowedCached is the guard's hot path: a decision already in the cache, with the
// version check made by Allowed itself (no Run).
func BenchmarkAllowedCached(b *testing.B) {
	e, err := NewEnforcer(context.Background(), benchSource(), Options{CheckInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	benchCached(b, e)
}

// BenchmarkAllowedCachedPolling is the hot path as `parley serve` runs it: Run polls the version,
// so Allowed does not read the clock.
func BenchmarkAllowedCachedPolling(b *testing.B) {
	e, err := NewEnforcer(context.Background(), benchSource(), Options{CheckInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for e.polling.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	benchCached(b, e)
}

func benchCached(b *testing.B, e *Enforcer) {
	ctx := context.Background()
	const tenant, user, dept = "tenant-07", "tenant-07-user-011", "tenant-07-dept-1"
	if ok, err := e.Allowed(ctx, tenant, user, dept, "chat.monitor"); !ok || err != nil {
		b.Fatalf("warm-up: %v %v", ok, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if ok, _ := e.Allowed(ctx, tenant, user, dept, "chat.monitor"); !ok {
			b.Fatal("denied")
		}
	}
}

// BenchmarkAllowedCachedParallel is the cached check from every core at once.
func BenchmarkAllowedCachedParallel(b *testing.B) {
	e, err := NewEnforcer(context.Background(), benchSource(), Options{CheckInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	users := make([]string, 200)
	for u := range users {
		users[u] = fmt.Sprintf("tenant-03-user-%03d", u)
		_, _ = e.Allowed(ctx, "tenant-03", users[u], "tenant-03-dept-4", "chat.accept")
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_, _ = e.Allowed(ctx, "tenant-03", users[i%len(users)], "tenant-03-dept-4", "chat.accept")
			i++
		}
	})
}

// BenchmarkDecideUncached is a cache miss: a full Casbin evaluation (the first request of a
// user for a permission in a scope after each policy change).
func BenchmarkDecideUncached(b *testing.B) {
	e, err := NewEnforcer(context.Background(), benchSource(), Options{CheckInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	s := e.snap.Load()
	k := decisionKey{tenant: "tenant-07", user: "tenant-07-user-011", dept: "tenant-07-dept-1", perm: "chat.monitor"}
	if ok, err := s.decide(k); !ok || err != nil {
		b.Fatalf("warm-up: %v %v", ok, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if ok, _ := s.decide(k); !ok {
			b.Fatal("denied")
		}
	}
}

// BenchmarkReload is a full policy reload of 50 tenants × 200 users.
func BenchmarkReload(b *testing.B) {
	src := benchSource()
	e, err := NewEnforcer(context.Background(), src, Options{CheckInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Reload(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

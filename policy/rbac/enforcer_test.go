package rbac

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// memSource is a Source over a Policy held in memory.
type memSource struct {
	mu       sync.Mutex
	policy   Policy
	err      error
	versions int
	loads    int
}

var _ Source = (*memSource)(nil)

func (m *memSource) PolicyVersion(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.versions++
	return m.policy.Version, m.err
}

func (m *memSource) LoadPolicy(context.Context) (Policy, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	p := m.policy
	p.Roles = append([]TenantRole(nil), p.Roles...)
	p.Assignments = append([]Assignment(nil), p.Assignments...)
	return p, m.err
}

func (m *memSource) set(fn func(p *Policy)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(&m.policy)
	m.policy.Version++
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestEnforcer(t testing.TB, src *memSource) (*Enforcer, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	e, err := NewEnforcer(context.Background(), src, Options{Now: c.Now, CheckInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return e, c
}

func fixture() *memSource {
	return &memSource{policy: Policy{
		Version: 1,
		Roles: []TenantRole{
			{TenantID: "t1", Role: Role{Name: "billing", Permissions: []string{"transcript.view.all", "offline.view.department"}}},
			{TenantID: "t2", Role: Role{Name: "billing", Permissions: []string{"keys.manage"}}},
		},
		Assignments: []Assignment{
			{TenantID: "t1", UserID: "owner1", Role: RoleOwner},
			{TenantID: "t1", UserID: "agent1", Role: RoleAgent, DepartmentID: "d1"},
			{TenantID: "t1", UserID: "sup1", Role: RoleSupervisor, DepartmentID: "d1"},
			{TenantID: "t1", UserID: "sup1", Role: RoleAgent, DepartmentID: "d2"},
			{TenantID: "t1", UserID: "admin1", Role: RoleAdmin},
			{TenantID: "t1", UserID: "aud1", Role: RoleAuditor},
			{TenantID: "t1", UserID: "bill1", Role: "billing"},
			{TenantID: "t1", UserID: "deptadmin", Role: RoleAdmin, DepartmentID: "d1"},
			{TenantID: "t2", UserID: "bill2", Role: "billing"},
			{TenantID: "t2", UserID: "owner2", Role: RoleOwner},
		},
	}}
}

func TestEnforcerDecisions(t *testing.T) {
	e, _ := newTestEnforcer(t, fixture())
	tests := []struct {
		name                     string
		tenant, user, dept, perm string
		want                     bool
	}{
		{"owner tenant-wide", "t1", "owner1", "", "keys.manage", true},
		{"owner reaches departments", "t1", "owner1", "d9", "card.view_full", true},
		{"owner of t1 is nothing in t2", "t2", "owner1", "", "keys.manage", false},
		{"agent in own department", "t1", "agent1", "d1", "chat.accept", true},
		{"agent in other department", "t1", "agent1", "d2", "chat.accept", false},
		{"department grant is not tenant-wide", "t1", "agent1", "", "chat.accept", false},
		{"agent lacks monitor", "t1", "agent1", "d1", "chat.monitor", false},
		{"supervisor in d1", "t1", "sup1", "d1", "chat.monitor", true},
		{"supervisor is agent in d2", "t1", "sup1", "d2", "chat.accept", true},
		{"supervisor not supervisor in d2", "t1", "sup1", "d2", "chat.monitor", false},
		{"admin has no audit", "t1", "admin1", "", "audit.view", false},
		{"admin manages roles", "t1", "admin1", "", "role.manage", true},
		{"auditor reads audit", "t1", "aud1", "", "audit.view", true},
		{"auditor reads no offline messages", "t1", "aud1", "d1", "offline.view.department", false},
		{"custom role tenant-wide", "t1", "bill1", "", "transcript.view.all", true},
		{"custom role departmental permission reaches departments", "t1", "bill1", "d1", "offline.view.department", true},
		{"custom role of same name in other tenant", "t2", "bill2", "", "transcript.view.all", false},
		{"other tenant's custom role grants its own", "t2", "bill2", "", "keys.manage", true},
		{"department admin: departmental permission", "t1", "deptadmin", "d1", "chat.monitor", true},
		{"department admin: tenant permission does not apply", "t1", "deptadmin", "d1", "role.manage", false},
		{"department admin: not tenant-wide", "t1", "deptadmin", "", "role.manage", false},
		{"unknown permission", "t1", "owner1", "", "audit.delete", false},
		{"unknown user", "t1", "nobody", "", "chat.accept", false},
		{"unknown tenant", "t9", "owner1", "", "chat.accept", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for round := range 2 { // the second round answers from the cache
				got, err := e.Allowed(context.Background(), tt.tenant, tt.user, tt.dept, tt.perm)
				if err != nil {
					t.Fatalf("round %d: error %v", round, err)
				}
				if got != tt.want {
					t.Errorf("round %d: Allowed = %v, want %v", round, got, tt.want)
				}
			}
		})
	}
}

func TestEnforcerRefusesInvalidIDs(t *testing.T) {
	e, _ := newTestEnforcer(t, fixture())
	tests := []struct{ name, tenant, user, dept string }{
		{"empty tenant", "", "owner1", ""},
		{"empty user", "t1", "", ""},
		{"domain in department", "t1", "agent1", "d1/dept:d2"},
		{"separator in tenant", "t1/dept:d1", "agent1", ""},
		{"wildcard department", "t1", "agent1", "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Allowed(context.Background(), tt.tenant, tt.user, tt.dept, "chat.accept")
			if got || !errors.Is(err, ErrInvalidID) {
				t.Errorf("Allowed = %v, %v; want false, ErrInvalidID", got, err)
			}
		})
	}
}

func TestEnforcerDeniesOnEvaluationError(t *testing.T) {
	src := fixture()
	src.policy.Assignments = append(src.policy.Assignments, Assignment{TenantID: "t1", UserID: "bad/user", Role: RoleOwner})
	e, _ := newTestEnforcer(t, src)
	got, err := e.Allowed(context.Background(), "t1", "owner1", "", "chat.accept")
	if got || !errors.Is(err, ErrEvaluation) {
		t.Errorf("Allowed = %v, %v; want false, ErrEvaluation", got, err)
	}
	// Another tenant is not affected.
	if got, err := e.Allowed(context.Background(), "t2", "owner2", "", "chat.accept"); !got || err != nil {
		t.Errorf("other tenant: Allowed = %v, %v; want true, nil", got, err)
	}
}

func TestEnforcerReloadsOnVersionChange(t *testing.T) {
	src := fixture()
	e, c := newTestEnforcer(t, src)
	ctx := context.Background()
	ask := func() bool {
		ok, err := e.Allowed(ctx, "t1", "agent1", "d2", "chat.accept")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if ask() {
		t.Fatal("agent1 allowed in d2 before the change")
	}
	src.set(func(p *Policy) {
		p.Assignments = append(p.Assignments, Assignment{TenantID: "t1", UserID: "agent1", Role: RoleAgent, DepartmentID: "d2"})
	})
	if ask() {
		t.Error("change seen before the check interval passed: the cached snapshot should stand")
	}
	c.Advance(1100 * time.Millisecond)
	if !ask() {
		t.Error("change not seen after the check interval")
	}
	if got, want := e.Version(), int64(2); got != want {
		t.Errorf("Version = %d, want %d", got, want)
	}
	loads := src.loads
	c.Advance(1100 * time.Millisecond)
	ask()
	if src.loads != loads {
		t.Errorf("policy reloaded %d times without a version change", src.loads-loads)
	}
}

func TestEnforcerKeepsSnapshotWhenSourceFails(t *testing.T) {
	src := fixture()
	e, c := newTestEnforcer(t, src)
	src.mu.Lock()
	src.err = errors.New("database unreachable")
	src.mu.Unlock()
	c.Advance(2 * time.Second)
	got, err := e.Allowed(context.Background(), "t1", "owner1", "", "keys.manage")
	if !got || err != nil {
		t.Errorf("Allowed = %v, %v; want the loaded policy to stand", got, err)
	}
	if _, err := e.Refresh(context.Background()); err == nil {
		t.Error("Refresh with a failing source: error nil, want the cause")
	}
}

func TestNewEnforcerFailsWithoutPolicy(t *testing.T) {
	src := &memSource{err: errors.New("no table")}
	if _, err := NewEnforcer(context.Background(), src, Options{}); err == nil {
		t.Error("NewEnforcer over a failing source: error nil")
	}
}

func TestEnforcerCacheIsBounded(t *testing.T) {
	src := fixture()
	c := &clock{t: time.Now()}
	e, err := NewEnforcer(context.Background(), src, Options{Now: c.Now, MaxCachedDecisions: 8})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := e.Allowed(context.Background(), "t1", fmt.Sprintf("u%d", i), "", "chat.accept"); err != nil {
			t.Fatal(err)
		}
	}
	s := e.snap.Load()
	if n := len(s.cache); n > 8 {
		t.Errorf("cache holds %d decisions, want at most 8", n)
	}
}

// TestCasbinAgreesWithGrants checks the Casbin model against the plain-Go reading of the same
// rules (GrantsOf) over random policies: both must give the same answer for every user,
// department and permission.
func TestCasbinAgreesWithGrants(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	names := Names()
	depts := []string{"d1", "d2", "d3"}
	for round := range 20 {
		var custom []Role
		for i := range 3 {
			var ps []string
			for range 1 + r.IntN(8) {
				ps = append(ps, names[r.IntN(len(names))])
			}
			custom = append(custom, Role{Name: fmt.Sprintf("custom%d", i), Permissions: ps})
		}
		roleNames := append(DefaultRoleNames(), "custom0", "custom1", "custom2", "gone")
		src := &memSource{policy: Policy{Version: 1}}
		for _, c := range custom {
			src.policy.Roles = append(src.policy.Roles, TenantRole{TenantID: "t", Role: c})
		}
		users := []string{"u1", "u2", "u3", "u4"}
		for _, u := range users {
			for range r.IntN(4) {
				a := Assignment{TenantID: "t", UserID: u, Role: roleNames[r.IntN(len(roleNames))]}
				if r.IntN(2) == 0 {
					a.DepartmentID = depts[r.IntN(len(depts))]
				}
				src.policy.Assignments = append(src.policy.Assignments, a)
			}
		}
		e, _ := newTestEnforcer(t, src)
		roles := RoleSet(custom)
		for _, u := range users {
			var mine []Assignment
			for _, a := range src.policy.Assignments {
				if a.UserID == u {
					mine = append(mine, a)
				}
			}
			g := GrantsOf(roles, mine)
			for _, d := range append([]string{""}, depts...) {
				for _, p := range names {
					got, err := e.Allowed(context.Background(), "t", u, d, p)
					if err != nil {
						t.Fatal(err)
					}
					if want := g.Allows(p, d); got != want {
						t.Errorf("round %d: %s in %q, %s: casbin %v, grants %v (assignments %+v)", round, u, d, p, got, want, mine)
					}
				}
			}
		}
	}
}

func TestConcurrentAllowedAndReload(t *testing.T) {
	src := fixture()
	e, c := newTestEnforcer(t, src)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				ok, err := e.Allowed(context.Background(), "t1", "owner1", fmt.Sprintf("d%d", (w+i)%5), "chat.accept")
				if err != nil || !ok {
					t.Errorf("owner denied: %v %v", ok, err)
					return
				}
			}
		}()
	}
	for range 20 {
		src.set(func(*Policy) {})
		c.Advance(2 * time.Second)
		if err := e.Reload(context.Background()); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}

func TestRunKeepsPolicyCurrent(t *testing.T) {
	src := fixture()
	e, err := NewEnforcer(context.Background(), src, Options{CheckInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	src.set(func(p *Policy) {
		p.Assignments = append(p.Assignments, Assignment{TenantID: "t1", UserID: "late", Role: RoleAgent})
	})
	deadline := time.Now().Add(5 * time.Second)
	for e.Version() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("Version = %d after 5s, want 2", e.Version())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if ok, err := e.Allowed(context.Background(), "t1", "late", "", "chat.accept"); !ok || err != nil {
		t.Errorf("Allowed = %v, %v; want true", ok, err)
	}
}

// TestEnforcerChecksVersionOnMiss: a grant written by another writer (the CLI creating a user)
// counts from the user's first request, without waiting for the interval.
func TestEnforcerChecksVersionOnMiss(t *testing.T) {
	src := fixture()
	e, _ := newTestEnforcer(t, src)
	src.set(func(p *Policy) {
		p.Assignments = append(p.Assignments, Assignment{TenantID: "t1", UserID: "newcomer", Role: RoleAuditor})
	})
	ok, err := e.Allowed(context.Background(), "t1", "newcomer", "", "audit.view")
	if !ok || err != nil {
		t.Errorf("Allowed = %v, %v; want true: a miss must see the current version", ok, err)
	}
}

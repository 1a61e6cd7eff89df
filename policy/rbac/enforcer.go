package rbac

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/parleyhq/parley/migrations"
)

// Defaults of the enforcer.
const (
	// DefaultCheckInterval is how often a node asks the source whether the policy changed.
	DefaultCheckInterval = time.Second
	// DefaultMaxCachedDecisions bounds the decision cache; when it fills it starts again empty.
	DefaultMaxCachedDecisions = 1 << 16
)

// Options configure an Enforcer.
type Options struct {
	Log *slog.Logger
	Now func() time.Time
	// CheckInterval is how often Allowed asks the source for its version (0: DefaultCheckInterval).
	CheckInterval time.Duration
	// MaxCachedDecisions bounds the decision cache (0: DefaultMaxCachedDecisions).
	MaxCachedDecisions int
}

// Enforcer answers authorization questions from a cached snapshot of the policy. Each snapshot
// holds the policy of one version; decisions are computed by Casbin on first use and cached until
// the next version. The source's version (one cheap query) is checked once per interval (by Run,
// or by the first Allowed call past the interval) and before every cache miss, so a change made
// on any node reaches every node within the interval, and a decision not yet cached is always
// made on the current policy; the node that made a change calls Reload and sees it at once.
//
// An Enforcer is safe for concurrent use.
type Enforcer struct {
	source   Source
	log      *slog.Logger
	now      func() time.Time
	interval time.Duration
	maxCache int

	snap      atomic.Pointer[snapshot]
	nextCheck atomic.Int64
	checking  atomic.Bool
	// polling is set while Run keeps the policy current, so Allowed need not read the clock.
	polling  atomic.Int32
	reloadMu sync.Mutex
}

// NewEnforcer loads the policy from source and returns an enforcer over it.
func NewEnforcer(ctx context.Context, source Source, opts Options) (*Enforcer, error) {
	if source == nil {
		return nil, errors.New("rbac: enforcer needs a policy source")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = DefaultCheckInterval
	}
	if opts.MaxCachedDecisions <= 0 {
		opts.MaxCachedDecisions = DefaultMaxCachedDecisions
	}
	e := &Enforcer{source: source, log: opts.Log, now: opts.Now, interval: opts.CheckInterval, maxCache: opts.MaxCachedDecisions}
	if err := e.Reload(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// Version returns the policy version the enforcer decides from.
func (e *Enforcer) Version() int64 {
	if s := e.snap.Load(); s != nil {
		return s.version
	}
	return 0
}

// Allowed reports whether a user of a tenant holds permission tenant-wide (departmentID "") or in
// one department. Any error (an invalid id, a policy that cannot be evaluated) comes with false:
// callers deny.
func (e *Enforcer) Allowed(ctx context.Context, tenantID, userID, departmentID, permission string) (bool, error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	if e.polling.Load() == 0 {
		if now := e.now().UnixNano(); now >= e.nextCheck.Load() {
			e.maybeRefresh(ctx, now)
		}
	}
	s := e.snap.Load()
	if s == nil {
		return false, ErrNotLoaded
	}
	k := decisionKey{tenant: tenantID, user: userID, dept: departmentID, perm: permission}
	s.cacheMu.RLock()
	ok, hit := s.cache[k]
	s.cacheMu.RUnlock()
	if hit {
		return ok, nil
	}
	// A miss is rare (a user's first request for a permission since the last reload): make sure
	// the snapshot is current before deciding, so a grant written elsewhere (a user created by the
	// CLI or by accepting an invitation) counts from the user's first request.
	if e.checking.CompareAndSwap(false, true) {
		if _, err := e.Refresh(ctx); err != nil {
			e.log.WarnContext(ctx, "authorization policy check failed", "cause", err.Error())
		}
		e.checking.Store(false)
		s = e.snap.Load()
	}
	ok, err := s.decide(k)
	if err != nil {
		return false, err
	}
	s.cacheMu.Lock()
	if len(s.cache) >= e.maxCache {
		s.cache = make(map[decisionKey]bool, min(e.maxCache, 1024))
	}
	s.cache[k] = ok
	s.cacheMu.Unlock()
	return ok, nil
}

// maybeRefresh lets one caller per interval check the source's version; the others carry on with
// the current snapshot.
func (e *Enforcer) maybeRefresh(ctx context.Context, now int64) {
	if !e.checking.CompareAndSwap(false, true) {
		return
	}
	defer e.checking.Store(false)
	if now < e.nextCheck.Load() {
		return
	}
	e.nextCheck.Store(now + int64(e.interval))
	if _, err := e.Refresh(ctx); err != nil {
		// The current snapshot stays in force; the next interval tries again.
		e.log.WarnContext(ctx, "authorization policy check failed", "cause", err.Error())
	}
}

// Refresh reloads the policy when the source's version differs from the snapshot's, and reports
// whether it did.
func (e *Enforcer) Refresh(ctx context.Context) (bool, error) {
	v, err := e.source.PolicyVersion(ctx)
	if err != nil {
		return false, fmt.Errorf("policy version: %w", err)
	}
	if s := e.snap.Load(); s != nil && s.version == v {
		return false, nil
	}
	return true, e.Reload(ctx)
}

// Reload reads the whole policy from the source and makes it current.
func (e *Enforcer) Reload(ctx context.Context) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	p, err := e.source.LoadPolicy(ctx)
	if err != nil {
		return fmt.Errorf("load policy: %w", err)
	}
	s := newSnapshot(p)
	if cur := e.snap.Load(); cur != nil && cur.version > s.version {
		return nil
	}
	e.snap.Store(s)
	e.nextCheck.Store(e.now().UnixNano() + int64(e.interval))
	e.log.DebugContext(ctx, "authorization policy loaded", "version", s.version,
		"custom_roles", len(p.Roles), "assignments", len(p.Assignments))
	return nil
}

// Run checks the source's version every interval until ctx ends, so an idle node is current
// before its next request. Without Run, Allowed checks on its own when the interval has passed;
// while Run is active the check stays off the request path.
func (e *Enforcer) Run(ctx context.Context) {
	t := time.NewTicker(e.interval)
	defer t.Stop()
	e.polling.Add(1)
	defer e.polling.Add(-1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.maybeRefresh(ctx, e.now().UnixNano())
		}
	}
}

type decisionKey struct {
	tenant, user, dept, perm string
}

// snapshot is the policy of one version with its decision cache and, per tenant, a Casbin
// enforcer built on first use.
type snapshot struct {
	version int64
	tenants map[string]*tenantPolicy

	cacheMu sync.RWMutex
	cache   map[decisionKey]bool

	// buildMu serializes Casbin work: building a tenant's enforcer and evaluating on a cache
	// miss.
	buildMu sync.Mutex
}

type tenantPolicy struct {
	roles       []Role
	assignments []Assignment
	casbin      *casbin.Enforcer
	err         error
}

func newSnapshot(p Policy) *snapshot {
	s := &snapshot{version: p.Version, tenants: map[string]*tenantPolicy{}, cache: make(map[decisionKey]bool, 1024)}
	get := func(t string) *tenantPolicy {
		tp := s.tenants[t]
		if tp == nil {
			tp = &tenantPolicy{}
			s.tenants[t] = tp
		}
		return tp
	}
	for _, r := range p.Roles {
		tp := get(r.TenantID)
		tp.roles = append(tp.roles, r.Role)
	}
	for _, a := range p.Assignments {
		tp := get(a.TenantID)
		tp.assignments = append(tp.assignments, a)
	}
	return s
}

// decide evaluates one request with Casbin.
func (s *snapshot) decide(k decisionKey) (bool, error) {
	if err := checkID("tenant", k.tenant); err != nil {
		return false, err
	}
	if err := checkID("user", k.user); err != nil {
		return false, err
	}
	if k.dept != "" {
		if err := checkID("department", k.dept); err != nil {
			return false, err
		}
	}
	if !Known(k.perm) {
		return false, nil
	}
	tp := s.tenants[k.tenant]
	if tp == nil {
		// No custom role and no assignment in this tenant: nothing is granted.
		return false, nil
	}
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	if tp.casbin == nil && tp.err == nil {
		policies, groupings, err := tenantRows(k.tenant, tp.roles, tp.assignments)
		if err == nil {
			tp.casbin, err = newCasbin(policies, groupings)
		}
		tp.err = err
	}
	if tp.err != nil {
		return false, fmt.Errorf("%w: %w", ErrEvaluation, tp.err)
	}
	ok, err := tp.casbin.Enforce(userSubject(k.user), domainOf(k.tenant, k.dept), k.perm)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrEvaluation, err)
	}
	return ok, nil
}

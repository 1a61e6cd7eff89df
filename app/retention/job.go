package retention

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/parleyhq/parley/app/visitor"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// leaseName names the retention job's lease in job_leases.
const leaseName = "retention"

// Counts is what a run removed (or, dry, would remove) per kind.
type Counts struct {
	Transcripts int64 `json:"transcripts"`
	Files       int64 `json:"files"`
	Offline     int64 `json:"offline"`
	Visitors    int64 `json:"visitors"`
	PageViews   int64 `json:"page_views"`
	// Held counts expired conversations a legal hold kept.
	Held int64 `json:"held"`
}

// Report is one organisation's part of a run.
type Report struct {
	TenantID string
	Counts   Counts
	// OrganisationHeld: a hold on the whole organisation suspended the run.
	OrganisationHeld bool
	// Conversations and OfflineMessages are the ids that went (or, dry, would go).
	Conversations   []string
	OfflineMessages []string
}

// RunOptions narrow a run.
type RunOptions struct {
	// TenantID limits the run to one organisation ("" is every organisation).
	TenantID string
	// DryRun lists what would go and changes nothing: no deletion, no run record, no audit.
	DryRun bool
	// StartedBy is "schedule" or "cli".
	StartedBy string
}

// Run is one recorded run of an organisation, for the console.
type Run struct {
	ID         string
	Node       string
	StartedBy  string
	Status     string
	StartedAt  time.Time
	FinishedAt *time.Time
	Counts     Counts
	Failure    string
}

// LastRun returns the organisation's latest run, or nil when the job never ran for it.
func (s *Service) LastRun(ctx context.Context, tenantID string) (*Run, error) {
	r, err := s.store.lastRun(ctx, tenantID)
	if err != nil || r == nil {
		return nil, err
	}
	return &Run{ID: r.ID, Node: r.Node, StartedBy: r.StartedBy, Status: r.Status, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Counts:  Counts{Transcripts: r.Transcripts, Files: r.Files, Offline: r.Offline, Visitors: r.Visitors, PageViews: r.PageViews, Held: r.Held},
		Failure: r.Failure}, nil
}

// Run runs the job a minute after start, then every Interval, until ctx ends, on whichever
// node holds the lease (a node restarted more often than hourly still runs it).
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTimer(min(time.Minute, s.cfg.Interval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.RunLeased(ctx, RunOptions{StartedBy: "schedule"}); err != nil && !errors.Is(err, ErrLeaseHeld) && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "retention run failed", "cause", err.Error())
			}
			t.Reset(s.cfg.Interval)
		}
	}
}

// RunLeased runs the job once if this node can take the lease (ErrLeaseHeld otherwise) and
// gives the lease up after. A dry run needs no lease.
func (s *Service) RunLeased(ctx context.Context, o RunOptions) ([]Report, error) {
	if o.DryRun {
		return s.RunOnce(ctx, o)
	}
	ok, err := s.renew(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrLeaseHeld
	}
	defer func() {
		if err := s.store.unlease(context.WithoutCancel(ctx), leaseName, s.cfg.Node); err != nil {
			s.log.WarnContext(ctx, "retention lease release", "cause", err.Error())
		}
	}()
	return s.RunOnce(ctx, o)
}

func (s *Service) renew(ctx context.Context) (bool, error) {
	now := s.now()
	return s.store.lease(ctx, leaseName, s.cfg.Node, now, now.Add(s.cfg.LeaseTTL))
}

// RunOnce applies the periods once to every organisation (or o.TenantID). The caller holds the
// lease, or runs dry. Each organisation's run is recorded (retention_runs) and audited as
// retention.run with its counts; a failing organisation does not stop the others, and the
// first failure is returned.
func (s *Service) RunOnce(ctx context.Context, o RunOptions) ([]Report, error) {
	var tenants []string
	if o.TenantID != "" {
		tenants = []string{o.TenantID}
	} else {
		var err error
		if tenants, err = s.store.tenants(ctx); err != nil {
			return nil, err
		}
	}
	if o.StartedBy == "" {
		o.StartedBy = "cli"
	}
	var first error
	out := make([]Report, 0, len(tenants))
	for _, t := range tenants {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if !o.DryRun {
			if ok, err := s.renew(ctx); err != nil || !ok {
				if err == nil {
					err = ErrLeaseHeld
				}
				return out, err
			}
		}
		rep, err := s.runTenant(ctx, t, o)
		if err != nil {
			s.log.ErrorContext(ctx, "retention run of an organisation failed", "tenant", t, "cause", err.Error())
			if first == nil {
				first = err
			}
		}
		out = append(out, rep)
	}
	return out, first
}

// periodPart is one period's sites and cutoff for one kind.
func (s *Service) parts(p Period, now time.Time) []sitePart {
	cut := func(days int) time.Time { return now.Add(-time.Duration(days) * 24 * time.Hour) }
	var out []sitePart
	var except []string
	for site, days := range p.Sites {
		out = append(out, sitePart{Sites: []string{site}, Cutoff: cut(days)})
		except = append(except, site)
	}
	return append(out, sitePart{Except: except, Cutoff: cut(p.Days)})
}

func (s *Service) runTenant(ctx context.Context, tenantID string, o RunOptions) (rep Report, err error) {
	ctx = migrations.WithTenant(ctx, tenantID)
	rep.TenantID = tenantID
	now := s.now()
	run := runRow{ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, Node: s.cfg.Node, StartedBy: o.StartedBy, Status: "running", StartedAt: now}
	if !o.DryRun {
		if err := s.store.interrupt(ctx, tenantID, now); err != nil {
			return rep, err
		}
		if err := s.store.addRun(ctx, run); err != nil {
			return rep, err
		}
		defer func() { err = s.finish(ctx, run, &rep, err) }()
	}
	held, err := s.holdsOf(ctx, tenantID)
	if err != nil {
		return rep, err
	}
	if held.org {
		rep.OrganisationHeld = true
		return rep, nil
	}
	periods, err := s.Periods(ctx, tenantID)
	if err != nil {
		return rep, err
	}
	ex := held.exclusions()
	for _, p := range periods {
		for _, part := range s.parts(p, now) {
			if err := s.apply(ctx, tenantID, p.Kind, part, ex, o.DryRun, &rep); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// apply removes one kind's expired data of one period part.
func (s *Service) apply(ctx context.Context, tenantID string, k Kind, part sitePart, ex exclusions, dry bool, rep *Report) error {
	switch k {
	case Transcripts:
		ids, held, err := s.store.expiredConversations(ctx, tenantID, part, ex, s.cfg.Batch)
		if err != nil {
			return err
		}
		rep.Counts.Held += held
		for _, id := range ids {
			if !dry {
				if err := s.shredExpired(ctx, tenantID, id); err != nil {
					return err
				}
			}
			rep.Conversations = append(rep.Conversations, id)
			rep.Counts.Transcripts++
		}
	case Files:
		if dry { // the files of the transcripts listed above go with them: count them once
			ex.Conversations = append(slices.Clip(ex.Conversations), rep.Conversations...)
		}
		n, err := s.store.expiredFiles(ctx, tenantID, part, ex, dry)
		if err != nil {
			return err
		}
		rep.Counts.Files += n
	case Offline:
		ids, err := s.store.expiredOffline(ctx, tenantID, part, ex, s.cfg.Batch)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if !dry {
				err := s.tx(ctx, tenantID, func(tx *gorm.DB) error {
					if err := s.cfg.Shredder.ShredIn(ctx, tx, tenantID, id); err != nil {
						return err
					}
					return s.store.in(tx).removeOffline(ctx, tenantID, id)
				})
				if err != nil {
					return err
				}
				s.cfg.Shredder.Forget(tenantID, id)
			}
			rep.OfflineMessages = append(rep.OfflineMessages, id)
			rep.Counts.Offline++
		}
	case Visitors:
		r, err := s.cfg.Visitors.PurgeTenant(ctx, visitor.PurgeScope{TenantID: tenantID, Sites: part.Sites, ExceptSites: part.Except,
			Cutoff: part.Cutoff, Keep: ex.Visitors, DryRun: dry})
		rep.Counts.PageViews += r.PageViews
		rep.Counts.Visitors += r.Visitors
		if err != nil {
			return err
		}
	}
	return nil
}

// shredExpired crypto-shreds one expired conversation; the hold check is repeated inside the
// transaction, so a hold placed since the list was read wins.
func (s *Service) shredExpired(ctx context.Context, tenantID, id string) error {
	c, err := s.Conversation(ctx, tenantID, id)
	if errors.Is(err, ErrNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	err = s.tx(ctx, tenantID, func(tx *gorm.DB) error {
		held, err := s.heldIn(ctx, tx, tenantID, c)
		if err != nil || held {
			return err
		}
		return s.shred(ctx, tx, tenantID, id)
	})
	if err == nil {
		s.cfg.Shredder.Forget(tenantID, id)
	}
	return err
}

// finish records the run's end and its retention.run audit event (counts only); a failed run
// is recorded too, with its failure named by kind, never by content.
func (s *Service) finish(ctx context.Context, run runRow, rep *Report, runErr error) error {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	c := rep.Counts
	run.FinishedAt, run.Status = &now, "done"
	run.Transcripts, run.Files, run.Offline, run.Visitors, run.PageViews, run.Held = c.Transcripts, c.Files, c.Offline, c.Visitors, c.PageViews, c.Held
	outcome := audit.Success
	if runErr != nil {
		run.Status, run.Failure, outcome = "failed", "error", audit.Failure
	}
	if rep.OrganisationHeld {
		run.Failure = "organisation_held"
	}
	details := map[string]string{
		"run_id": run.ID, "started_by": run.StartedBy, "transcripts": strconv.FormatInt(c.Transcripts, 10),
		"files": strconv.FormatInt(c.Files, 10), "offline": strconv.FormatInt(c.Offline, 10),
		"visitors": strconv.FormatInt(c.Visitors, 10), "page_views": strconv.FormatInt(c.PageViews, 10),
		"held": strconv.FormatInt(c.Held, 10),
	}
	if rep.OrganisationHeld {
		details["organisation_held"] = "true"
	}
	err := s.tx(ctx, run.TenantID, func(tx *gorm.DB) error {
		if err := s.store.in(tx).finishRun(ctx, run); err != nil {
			return err
		}
		return s.cfg.Audit.Append(ctx, tx, audit.Event{
			Tenant: run.TenantID, Actor: audit.Actor{ID: "retention", Kind: audit.ActorSystem},
			Origin: audit.Origin{Node: s.cfg.Node}, Action: audit.ActionRetentionRun, Target: audit.Target{Kind: "retention_run", ID: run.ID},
			Outcome: outcome, Details: details,
		})
	})
	return errors.Join(runErr, err)
}

package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/migrations"
)

// JobLease names the evidence job runner's lease in job_leases: one node at a time generates
// the queued reports.
const JobLease = "evidence-reports"

// Appender writes an audit event inside the caller's transaction (auditlog.Log).
type Appender interface {
	Append(ctx context.Context, tx *gorm.DB, ev audit.Event) error
}

// Runner generates the reports queued in the Store, in the background, on the node that holds
// JobLease: the console asks for a report and answers at once, and the report's row shows its
// progress until its bundle can be downloaded. Each generation is recorded in the audit log as
// evidence.generate (success with the summary, or failure with a reason), in the transaction that
// stores the bundle. A job whose node stopped is taken again after StaleAfter, up to MaxAttempts
// runs, and then marked failed and recorded so.
type Runner struct {
	Store *Store
	// Generator returns the report generator over the live configuration and data.
	Generator func() *Generator
	// Organisation names an organisation for the report's title.
	Organisation func(ctx context.Context, tenantID string) (string, error)
	// Requester names the user who asked for a report, as the report shows them (nil: their id).
	Requester func(ctx context.Context, tenantID, userID string) string
	Audit     Appender
	Now       func() time.Time
	// Node names this node as lease holder and in audit records.
	Node string
	Log  *slog.Logger
	// LeaseTTL is how long the lease outlives its last renewal (default 2 minutes); StaleAfter
	// how long a running job may go without a heartbeat before it is taken again (default 2
	// minutes); Heartbeat how often a running job says it is alive (default 15 s); MaxAttempts
	// how many runs a job gets (default 3).
	LeaseTTL, StaleAfter, Heartbeat time.Duration
	MaxAttempts                     int

	busy atomic.Bool
	wg   sync.WaitGroup
}

func (r *Runner) defaults() {
	if r.LeaseTTL <= 0 {
		r.LeaseTTL = 2 * time.Minute
	}
	if r.StaleAfter <= 0 {
		r.StaleAfter = 2 * time.Minute
	}
	if r.Heartbeat <= 0 {
		r.Heartbeat = 15 * time.Second
	}
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 3
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	if r.Node == "" {
		r.Node = "parley"
	}
}

// Kick runs the queue now in the background, unless this node is already running it; a report
// just queued then starts without waiting for the next period.
func (r *Runner) Kick(ctx context.Context) {
	if !r.busy.CompareAndSwap(false, true) {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer r.busy.Store(false)
		if _, err := r.RunOnce(context.WithoutCancel(ctx)); err != nil {
			r.Log.ErrorContext(ctx, "evidence jobs", "cause", err.Error())
		}
	}()
}

// Wait waits for a run Kick started.
func (r *Runner) Wait() { r.wg.Wait() }

// Run runs the queue every period until ctx ends: jobs queued on another node, and jobs to take
// again after their node stopped.
func (r *Runner) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		r.Kick(ctx)
		select {
		case <-ctx.Done():
			r.Wait()
			return
		case <-t.C:
		}
	}
}

// RunOnce takes the lease (doing nothing when another node holds it), fails the jobs whose runs
// all stopped, and generates every job it can claim; it returns how many it completed.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	r.defaults()
	ok, err := r.renew(ctx)
	if err != nil || !ok {
		return 0, err
	}
	defer func() {
		if err := r.Store.unlease(context.WithoutCancel(ctx), JobLease, r.Node); err != nil {
			r.Log.WarnContext(ctx, "evidence jobs: lease release", "cause", err.Error())
		}
	}()
	now := r.Now()
	dead, err := r.Store.abandon(ctx, now.Add(-r.StaleAfter), r.MaxAttempts)
	for _, j := range dead {
		_ = r.record(ctx, nil, j, audit.Failure, "interrupted", nil) // logged by record
	}
	if err != nil {
		return 0, err
	}
	done := 0
	for ctx.Err() == nil {
		if ok, err := r.renew(ctx); err != nil || !ok {
			return done, err
		}
		now := r.Now()
		j, ok, err := r.Store.claim(ctx, now, now.Add(-r.StaleAfter), r.MaxAttempts)
		if err != nil || !ok {
			return done, err
		}
		if err := r.generate(ctx, j); err != nil {
			r.Log.ErrorContext(ctx, "evidence report generation failed", "tenant", j.TenantID, "report", j.ID, "cause", err.Error())
			continue
		}
		done++
	}
	return done, ctx.Err()
}

func (r *Runner) renew(ctx context.Context) (bool, error) {
	now := r.Now()
	return r.Store.lease(ctx, JobLease, r.Node, now, now.Add(r.LeaseTTL))
}

// generate writes one claimed job's bundle, beating its heartbeat meanwhile, and completes or
// fails it.
func (r *Runner) generate(ctx context.Context, j Stored) error {
	ctx = migrations.WithTenant(ctx, j.TenantID)
	beat, stop := context.WithCancel(ctx)
	defer stop()
	var mu sync.Mutex
	stage, pct := "starting", 0
	go func() {
		t := time.NewTicker(r.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-beat.Done():
				return
			case <-t.C:
				mu.Lock()
				s, p := stage, pct
				mu.Unlock()
				_ = r.Store.progress(beat, j, s, p, r.Now())
				_, _ = r.renew(beat)
			}
		}
	}()
	report := func(s string, p int) {
		mu.Lock()
		stage, pct = s, p
		mu.Unlock()
		if err := r.Store.progress(ctx, j, s, p, r.Now()); err != nil && !errors.Is(err, ErrNotFound) {
			r.Log.WarnContext(ctx, "evidence job progress", "report", j.ID, "cause", err.Error())
		}
	}
	org, err := r.Organisation(ctx, j.TenantID)
	if err != nil {
		return r.failed(ctx, j, "organisation", err)
	}
	by := j.CreatedBy
	if r.Requester != nil {
		if name := r.Requester(ctx, j.TenantID, j.CreatedBy); name != "" {
			by = name
		}
	}
	g := r.Generator()
	g.Progress = report
	var b bytes.Buffer
	info, err := g.Write(ctx, &b, Period{Tenant: j.TenantID, Organisation: org, Framework: j.Framework, From: j.PeriodFrom, To: j.PeriodTo, By: by})
	if err != nil {
		return r.failed(ctx, j, "generation failed", err)
	}
	stop()
	s := info.Report.Summary
	j.Events, j.Pass, j.Fail, j.Manual, j.SHA256, j.Size, j.Bundle = info.Report.Events, s.Pass, s.Fail, s.Manual, info.SHA256, info.Bytes, b.Bytes()
	details := map[string]string{"from": j.PeriodFrom.Format(time.DateOnly), "to": j.PeriodTo.Format(time.DateOnly), "sha256": info.SHA256,
		"pass": strconv.Itoa(s.Pass), "fail": strconv.Itoa(s.Fail), "manual": strconv.Itoa(s.Manual), "attempt": strconv.Itoa(j.Attempts)}
	err = migrations.Transaction(r.Store.DB.WithContext(ctx), func(tx *gorm.DB) error {
		if err := r.Store.complete(ctx, tx, j); err != nil {
			return err
		}
		return r.record(ctx, tx, j, audit.Success, "", details)
	})
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("evidence: report %s was taken over by another run", j.ID)
	}
	if err != nil {
		return r.failed(ctx, j, "not stored", err)
	}
	return nil
}

// failed marks a job failed with reason and records the failure; cause goes to the log only.
func (r *Runner) failed(ctx context.Context, j Stored, reason string, cause error) error {
	err := migrations.Transaction(r.Store.DB.WithContext(migrations.WithTenant(ctx, j.TenantID)), func(tx *gorm.DB) error {
		if err := r.Store.fail(ctx, tx, j, reason); err != nil {
			return err
		}
		return r.record(ctx, tx, j, audit.Failure, reason, map[string]string{"attempt": strconv.Itoa(j.Attempts)})
	})
	return errors.Join(cause, err)
}

// record writes the job's evidence.generate event, in tx, or in a transaction of its own when
// tx is nil; an event that cannot be written is logged.
func (r *Runner) record(ctx context.Context, tx *gorm.DB, j Stored, outcome audit.Outcome, reason string, details map[string]string) error {
	if details == nil {
		details = map[string]string{}
	}
	details["framework"], details["job"] = string(j.Framework), "background"
	ev := audit.Event{
		Tenant: j.TenantID, Actor: audit.Actor{ID: j.CreatedBy, Kind: audit.ActorUser}, Origin: audit.Origin{Node: r.Node},
		Action: audit.ActionEvidenceGenerate, Target: audit.Target{Kind: "evidence_report", ID: j.ID}, Outcome: outcome, Reason: reason,
		Details: details,
	}
	ctx = migrations.WithTenant(ctx, j.TenantID)
	var err error
	if tx != nil {
		err = r.Audit.Append(ctx, tx, ev)
	} else {
		err = migrations.Transaction(r.Store.DB.WithContext(ctx), func(tx *gorm.DB) error { return r.Audit.Append(ctx, tx, ev) })
	}
	if err != nil && tx == nil {
		r.Log.ErrorContext(ctx, "evidence job: audit record", "report", j.ID, "cause", err.Error())
	}
	return err
}

// Package integrity serves the auditor's Integrity page (Compliance → Integrity) and its JSON
// API: "verify now" on the organisation's audit chain as a background job with its progress
// (events checked of the total, the result, the first broken link), the latest signed
// checkpoints with their key and signature status, and the state of audit forwarding to each
// destination (last success, lag). Jobs are rows of audit_verify_jobs, so any node answers their
// progress; one job runs per organisation at a time, and a job whose node stopped is reported
// failed ("interrupted") once its heartbeat is stale, never left running. Each verification is
// recorded in the audit log (audit.verify) before its result is shown.
package integrity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/audit/forward"
	"github.com/parleyhq/parley/migrations"
)

// Chain is what the service needs of the audit log (auditlog.Log).
type Chain interface {
	Seal(ctx context.Context) (int, error)
	VerifyProgress(ctx context.Context, tenant string, fromSeq int64, progress auditlog.Progress) (auditlog.Report, error)
	RecentCheckpoints(ctx context.Context, tenant string, limit int) ([]audit.Checkpoint, error)
	TrustedKeys() []audit.PublicKey
	Head(ctx context.Context, tenant string) (int64, audit.Hash, error)
	Get(ctx context.Context, tenant string, seq int64) (audit.Entry, error)
	Record(ctx context.Context, ev audit.Event) error
}

var _ Chain = (*auditlog.Log)(nil)

// Service runs verification jobs and reads checkpoints and forwarding state.
type Service struct {
	Chain Chain
	DB    *gorm.DB
	Now   func() time.Time
	Rand  io.Reader
	Node  string
	Log   *slog.Logger
	// KeyVersions maps signing key ids to their versions at the key provider (a Vault transit
	// key's versions; 1 for the local key file); nil or a missing id shows no version.
	KeyVersions func(ctx context.Context) map[string]int
	// Destinations names the configured forwarding destinations (app.AuditForwardDestinations).
	Destinations []string
	// Health is this node's forwarder's view of each destination, nil when it forwards nothing.
	Health func() []forward.SinkStatus
	// Alerts are the standing audit alerts (a failing destination raises one on its node).
	Alerts func() []audit.Alert
	// StaleAfter is how long a running job may go without a heartbeat before it is reported
	// interrupted (default 2 minutes); Heartbeat how often a job renews it (default 10 s).
	StaleAfter, Heartbeat time.Duration

	wg sync.WaitGroup
}

func (s *Service) staleAfter() time.Duration {
	if s.StaleAfter <= 0 {
		return 2 * time.Minute
	}
	return s.StaleAfter
}

func (s *Service) heartbeat() time.Duration {
	if s.Heartbeat <= 0 {
		return 10 * time.Second
	}
	return s.Heartbeat
}

func (s *Service) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Service) store() store { return store{db: s.DB} }

// Requester is who asks for a verification, for its audit record.
type Requester struct {
	TenantID  string
	UserID    string
	IP        string
	UserAgent string
	RequestID string
}

// Job is a verification as the page and the API show it.
type Job struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// Checked of Total events recomputed so far; Percent is the same in whole percent.
	Checked    int64      `json:"checked"`
	Total      int64      `json:"total"`
	Percent    int        `json:"percent"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	StartedBy  string     `json:"started_by"`
	// Result is the verification's finding once done.
	Result *Result `json:"result,omitempty"`
	// Failure names why a failed job failed, by kind (interrupted, error, audit_unavailable).
	Failure string `json:"failure,omitempty"`
}

// Running reports whether the job is still running.
func (j Job) Running() bool { return j.Status == StatusRunning }

// Result is a finished verification's finding.
type Result struct {
	// Intact is true when no damage was found.
	Intact bool `json:"intact"`
	// Events is how many events were recomputed, from FromSeq to ToSeq.
	Events  int64 `json:"events"`
	FromSeq int64 `json:"from_seq"`
	ToSeq   int64 `json:"to_seq"`
	// Checkpoints is how many signed checkpoints verified; Matched how many the recomputed
	// chain agreed with.
	Checkpoints int `json:"checkpoints"`
	Matched     int `json:"matched"`
	// Head is the chain head when verification started.
	Head int64 `json:"head"`
	// Damage is the first broken link: its sequence number, kind and what was found.
	Damage *audit.Damage `json:"damage,omitempty"`
}

func (s *Service) job(r jobRow) Job {
	j := Job{ID: r.ID, Status: r.Status, Checked: r.Checked, Total: r.Total, StartedAt: time.UnixMicro(r.StartedUs).UTC(),
		StartedBy: r.StartedBy, Failure: r.Failure}
	if r.Total > 0 {
		j.Percent = int(min(r.Checked*100/r.Total, 100))
	} else if r.Status == StatusDone {
		j.Percent = 100
	}
	if r.FinishedUs > 0 {
		t := time.UnixMicro(r.FinishedUs).UTC()
		j.FinishedAt = &t
	}
	if r.Result != "" {
		var res Result
		if err := json.Unmarshal([]byte(r.Result), &res); err == nil {
			j.Result = &res
		}
	}
	// A job whose node stopped is shown as it will be recorded: interrupted.
	if r.Status == StatusRunning && r.UpdatedUs < s.Now().Add(-s.staleAfter()).UnixMicro() {
		j.Status, j.Failure = StatusFailed, "interrupted"
	}
	return j
}

// Start starts verifying the tenant's chain in the background and returns the job. When a
// verification of the tenant already runs, it returns that one instead: one at a time per
// organisation. A running job whose node stopped is marked interrupted first.
func (s *Service) Start(ctx context.Context, by Requester) (Job, error) {
	ctx = migrations.WithTenant(ctx, by.TenantID)
	st := s.store()
	for range 3 {
		now := s.Now()
		cur, err := st.running(ctx, by.TenantID)
		switch {
		case err == nil:
			gone, err := st.interrupt(ctx, cur, now.Add(-s.staleAfter()), now)
			if err != nil {
				return Job{}, err
			}
			if !gone {
				return s.job(cur), nil
			}
			s.recordInterrupted(ctx, cur)
			continue
		case !errors.Is(err, ErrNotFound):
			return Job{}, err
		}
		id, err := newID(s.Rand)
		if err != nil {
			return Job{}, err
		}
		r := jobRow{ID: id, TenantID: by.TenantID, Status: StatusRunning, StartedBy: by.UserID, Node: s.Node,
			StartedUs: now.UnixMicro(), UpdatedUs: now.UnixMicro()}
		if err := st.insert(ctx, r); err != nil {
			// Another request started one meanwhile (the unique index on running jobs): join it.
			if _, again := st.running(ctx, by.TenantID); again == nil {
				continue
			}
			return Job{}, err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.run(context.WithoutCancel(ctx), r, by)
		}()
		return s.job(r), nil
	}
	return Job{}, errors.New("integrity: could not start a verification")
}

// Wait waits for the jobs this node started.
func (s *Service) Wait() { s.wg.Wait() }

// Job returns one of the tenant's verifications.
func (s *Service) Job(ctx context.Context, tenantID, id string) (Job, error) {
	r, err := s.store().get(ctx, tenantID, id)
	if err != nil {
		return Job{}, err
	}
	return s.job(r), nil
}

// Latest returns the tenant's latest verification; ErrNotFound when it never verified.
func (s *Service) Latest(ctx context.Context, tenantID string) (Job, error) {
	r, err := s.store().latest(ctx, tenantID)
	if err != nil {
		return Job{}, err
	}
	return s.job(r), nil
}

// run verifies the chain, reporting progress and a heartbeat, records the verification in the
// audit log and stores the result. A verification that cannot be recorded shows no result (fail
// closed: failure audit_unavailable).
func (s *Service) run(ctx context.Context, r jobRow, by Requester) {
	ctx = migrations.WithTenant(ctx, r.TenantID)
	st := s.store()
	var (
		mu             sync.Mutex
		checked, total int64
		lastWrite      time.Time
	)
	beat, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		t := time.NewTicker(s.heartbeat())
		defer t.Stop()
		for {
			select {
			case <-beat.Done():
				return
			case <-t.C:
				mu.Lock()
				c, n := checked, total
				mu.Unlock()
				_ = st.progress(beat, r, c, n, s.Now())
			}
		}
	}()
	progress := func(c, n int64) {
		mu.Lock()
		checked, total = c, n
		write := time.Since(lastWrite) >= 200*time.Millisecond
		if write {
			lastWrite = time.Now()
		}
		mu.Unlock()
		if write {
			if err := st.progress(ctx, r, c, n, s.Now()); err != nil {
				s.logger().WarnContext(ctx, "audit verification progress", "job", r.ID, "cause", err.Error())
			}
		}
	}
	rep, err := s.verify(ctx, r.TenantID, progress)
	stop()
	now := s.Now()
	r.UpdatedUs, r.FinishedUs = now.UnixMicro(), now.UnixMicro()
	if err != nil {
		s.logger().ErrorContext(ctx, "audit verification failed", "tenant", r.TenantID, "job", r.ID, "cause", err.Error())
		r.Status, r.Failure = StatusFailed, "error"
		_ = s.record(ctx, by, r.ID, audit.Failure, "error", nil)
		s.finish(ctx, r)
		return
	}
	res := Result{Intact: rep.OK(), Events: rep.Events, FromSeq: rep.FromSeq, ToSeq: rep.ToSeq, Checkpoints: rep.Checkpoints,
		Matched: rep.Matched, Head: rep.Head, Damage: rep.Damage}
	r.Checked, r.Total = rep.Events, max(rep.Events, total)
	outcome, reason := audit.Success, ""
	if !res.Intact {
		outcome, reason = audit.Failure, string(rep.Damage.Kind)
	}
	details := map[string]string{"events": strconv.FormatInt(rep.Events, 10), "checkpoints": strconv.Itoa(rep.Checkpoints)}
	if rep.Damage != nil {
		details["first_bad_seq"] = strconv.FormatInt(rep.Damage.Seq, 10)
	}
	if err := s.record(ctx, by, r.ID, outcome, reason, details); err != nil {
		s.logger().ErrorContext(ctx, "audit verification not recorded", "tenant", r.TenantID, "job", r.ID, "cause", err.Error())
		r.Status, r.Failure = StatusFailed, "audit_unavailable"
		s.finish(ctx, r)
		return
	}
	raw, err := json.Marshal(res)
	if err != nil {
		r.Status, r.Failure = StatusFailed, "error"
		s.finish(ctx, r)
		return
	}
	r.Status, r.Result = StatusDone, string(raw)
	s.finish(ctx, r)
}

// verify seals what is pending and recomputes the tenant's whole online chain.
func (s *Service) verify(ctx context.Context, tenantID string, progress auditlog.Progress) (auditlog.Report, error) {
	if _, err := s.Chain.Seal(ctx); err != nil {
		return auditlog.Report{}, fmt.Errorf("seal: %w", err)
	}
	return s.Chain.VerifyProgress(ctx, tenantID, 0, progress)
}

func (s *Service) finish(ctx context.Context, r jobRow) {
	ok, err := s.store().finish(ctx, r)
	if err != nil {
		s.logger().ErrorContext(ctx, "audit verification: store the result", "job", r.ID, "cause", err.Error())
	} else if !ok {
		s.logger().WarnContext(ctx, "audit verification finished after it was declared interrupted", "job", r.ID)
	}
}

// record writes the verification's audit.verify event.
func (s *Service) record(ctx context.Context, by Requester, jobID string, outcome audit.Outcome, reason string, details map[string]string) error {
	if details == nil {
		details = map[string]string{}
	}
	details["job"] = jobID
	return s.Chain.Record(ctx, audit.Event{
		Tenant: by.TenantID, Actor: audit.Actor{ID: by.UserID, Kind: audit.ActorUser},
		Origin: audit.Origin{IP: by.IP, UserAgent: by.UserAgent, Node: s.Node},
		Action: audit.ActionAuditVerify, Target: audit.Target{Kind: "audit_log", ID: by.TenantID}, Outcome: outcome, Reason: reason,
		RequestID: by.RequestID, Details: details,
	})
}

// recordInterrupted records a verification whose node stopped before it finished.
func (s *Service) recordInterrupted(ctx context.Context, r jobRow) {
	err := s.record(ctx, Requester{TenantID: r.TenantID, UserID: r.StartedBy}, r.ID, audit.Failure, "interrupted", nil)
	if err != nil {
		s.logger().WarnContext(ctx, "audit verification interrupted: not recorded", "job", r.ID, "cause", err.Error())
	}
}

func newID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

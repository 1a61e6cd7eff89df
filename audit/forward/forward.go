// Package forward copies the audit log to central stores promptly (PCI DSS 10.3.3): RFC 5424
// syslog over TLS and JSON lines to a file. A Forwarder reads committed, sealed events and
// checkpoints in sequence order from the database and hands them to each Sink; its progress
// per sink and tenant is a cursor row in the database, so after a restart it resumes where it
// stopped and skips nothing. Delivery is at least once: a batch that was sent but whose cursor
// was not saved is sent again, and receivers deduplicate by (tenant, seq). A failing sink is
// retried with exponential backoff, and the failure is raised through the audit Alerter and
// recorded in the audit log.
package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/audit/auditlog"
	"github.com/parleyhq/parley/migrations"
)

// Batch is what a Sink receives: events of one tenant in seq order, and the checkpoints whose
// seq they reach.
type Batch struct {
	Tenant      string
	Entries     []audit.Entry
	Checkpoints []audit.Checkpoint
}

// Sink is a destination for audit events.
type Sink interface {
	// Name identifies the sink's cursor; it must stay the same across restarts.
	Name() string
	// Send delivers a batch; it returns only when the batch is written (or failed).
	Send(ctx context.Context, b Batch) error
	// Close releases the sink's connection or file.
	Close() error
}

// Source is the part of *auditlog.Log the forwarder reads.
type Source interface {
	Chains(ctx context.Context) ([]auditlog.ChainHead, error)
	Entries(ctx context.Context, tenant string, afterSeq int64, limit int) ([]audit.Entry, error)
	Checkpoints(ctx context.Context, tenant string, afterSeq int64, limit int) ([]audit.Checkpoint, error)
}

// Recorder records the forwarder's own failures in the audit log.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) error
}

var (
	_ Source   = (*auditlog.Log)(nil)
	_ Recorder = (*auditlog.Log)(nil)
)

// Errors of the forward package.
var (
	// ErrConfig means a Forwarder or sink configuration is unusable.
	ErrConfig = errors.New("forward: invalid configuration")
	// ErrSink means a sink could not accept a batch.
	ErrSink = errors.New("forward: sink failed")
)

// errLeaseLost ends a pass whose node no longer holds the sink's lease.
var errLeaseLost = errors.New("forward: lease taken over by another node")

// Config assembles a Forwarder.
type Config struct {
	// DB holds the cursors and leases (tables of migration 00003).
	DB       *migrations.DB
	Source   Source
	Recorder Recorder
	Sinks    []Sink
	Alerter  audit.Alerter
	Logger   *slog.Logger
	Now      func() time.Time
	// Node names this node as a lease holder: one node at a time forwards to each sink.
	Node string
	// Interval between polls when idle (default 1 s).
	Interval time.Duration
	// BatchSize is the most events per Send (default 500).
	BatchSize int
	// MinBackoff and MaxBackoff bound the wait after a failure (defaults 1 s and 5 min).
	MinBackoff, MaxBackoff time.Duration
	// LeaseTTL is how long a node keeps a sink after it last renewed the lease, at the start of
	// a pass and before each batch (default 30 s).
	LeaseTTL time.Duration
}

// Forwarder forwards the audit log to its sinks.
type Forwarder struct {
	cfg    Config
	store  cursorStore
	log    *slog.Logger
	mu     sync.Mutex
	status map[string]*SinkStatus
}

// SinkStatus is one sink's health, for /readyz and metrics.
type SinkStatus struct {
	Name        string    `json:"name"`
	Healthy     bool      `json:"healthy"`
	Failures    int       `json:"failures"`
	LastError   string    `json:"last_error,omitempty"`
	LastSuccess time.Time `json:"last_success"`
	Forwarded   int64     `json:"forwarded"`
}

// New checks cfg and returns a Forwarder.
func New(cfg Config) (*Forwarder, error) {
	if cfg.DB == nil || cfg.Source == nil {
		return nil, fmt.Errorf("%w: database and source are required", ErrConfig)
	}
	seen := map[string]bool{}
	for _, s := range cfg.Sinks {
		if s == nil || s.Name() == "" || seen[s.Name()] {
			return nil, fmt.Errorf("%w: every sink needs a distinct name", ErrConfig)
		}
		seen[s.Name()] = true
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Alerter == nil {
		cfg.Alerter = audit.AlertFunc(nil)
	}
	if cfg.Node == "" {
		cfg.Node = "parley"
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(5*time.Minute, cfg.MinBackoff)
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 30 * time.Second
	}
	f := &Forwarder{cfg: cfg, store: cursorStore{db: cfg.DB}, log: cfg.Logger, status: map[string]*SinkStatus{}}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	for _, s := range cfg.Sinks {
		f.status[s.Name()] = &SinkStatus{Name: s.Name(), Healthy: true}
	}
	return f, nil
}

// Status returns every sink's health.
func (f *Forwarder) Status() []SinkStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]SinkStatus, 0, len(f.cfg.Sinks))
	for _, s := range f.cfg.Sinks {
		out = append(out, *f.status[s.Name()])
	}
	return out
}

// Run forwards to every sink until ctx ends, then closes the sinks.
func (f *Forwarder) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, s := range f.cfg.Sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.runSink(ctx, s)
		}()
	}
	wg.Wait()
	var errs []error
	for _, s := range f.cfg.Sinks {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Flush makes one pass over every sink, forwarding everything sealed so far, and returns the
// sinks' errors (wrapping ErrSink).
func (f *Forwarder) Flush(ctx context.Context) error {
	var errs []error
	for _, s := range f.cfg.Sinks {
		if _, err := f.pass(ctx, s); err != nil {
			f.failed(ctx, s, err)
			errs = append(errs, err)
			continue
		}
		f.succeeded(ctx, s)
	}
	return errors.Join(errs...)
}

func (f *Forwarder) runSink(ctx context.Context, s Sink) {
	failures := 0
	for {
		var wait time.Duration
		if _, err := f.pass(ctx, s); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			f.failed(ctx, s, err)
			wait = f.backoff(failures)
		} else {
			failures = 0
			f.succeeded(ctx, s)
			wait = f.cfg.Interval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// backoff doubles from MinBackoff up to MaxBackoff.
func (f *Forwarder) backoff(failures int) time.Duration {
	d := f.cfg.MinBackoff
	for i := 1; i < failures && d < f.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, f.cfg.MaxBackoff)
}

// pass forwards everything pending to one sink and returns how many events it sent.
func (f *Forwarder) pass(ctx context.Context, s Sink) (int, error) {
	now := f.cfg.Now()
	held, err := f.store.lease(ctx, s.Name(), f.cfg.Node, now, now.Add(f.cfg.LeaseTTL))
	if err != nil || !held {
		return 0, err
	}
	chains, err := f.cfg.Source.Chains(ctx)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: list chains: %w", ErrSink, s.Name(), err)
	}
	cursors, err := f.store.all(ctx, s.Name())
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, c := range chains {
		cur := cursors[c.Tenant]
		if c.Seq <= cur.event && c.CheckpointSeq <= cur.checkpoint {
			continue // nothing new in this chain
		}
		n, err := f.passTenant(ctx, s, c.Tenant, cur)
		sent += n
		if errors.Is(err, errLeaseLost) {
			return sent, nil // another node forwards to this sink now
		}
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func (f *Forwarder) passTenant(ctx context.Context, s Sink, tenant string, cur cursor) (int, error) {
	ctx = migrations.WithTenant(ctx, tenant)
	sent := 0
	for {
		entries, err := f.cfg.Source.Entries(ctx, tenant, cur.event, f.cfg.BatchSize)
		if err != nil {
			return sent, fmt.Errorf("%w: %s: read events: %w", ErrSink, s.Name(), err)
		}
		upto := cur.event
		if len(entries) > 0 {
			if cur.event > 0 && entries[0].Seq != cur.event+1 {
				f.log.ErrorContext(ctx, "audit events removed before they were forwarded", "sink", s.Name(), "tenant", tenant, "from", cur.event+1, "to", entries[0].Seq-1)
			}
			upto = entries[len(entries)-1].Seq
		}
		cps, err := f.cfg.Source.Checkpoints(ctx, tenant, cur.checkpoint, f.cfg.BatchSize)
		if err != nil {
			return sent, fmt.Errorf("%w: %s: read checkpoints: %w", ErrSink, s.Name(), err)
		}
		// A checkpoint follows the events it covers.
		k := 0
		for k < len(cps) && cps[k].Seq <= upto {
			k++
		}
		cps = cps[:k]
		if len(entries) == 0 && len(cps) == 0 {
			return sent, nil
		}
		// A long pass may outlive the lease: renew it before each batch and stop once another
		// node has taken the sink over, rather than forward beside it from a stale cursor.
		now := f.cfg.Now()
		held, err := f.store.lease(ctx, s.Name(), f.cfg.Node, now, now.Add(f.cfg.LeaseTTL))
		if err != nil {
			return sent, err
		}
		if !held {
			f.log.WarnContext(ctx, "audit forwarding lease taken over by another node", "sink", s.Name(), "tenant", tenant)
			return sent, errLeaseLost
		}
		if err := s.Send(ctx, Batch{Tenant: tenant, Entries: entries, Checkpoints: cps}); err != nil {
			return sent, fmt.Errorf("%w: %s: %w", ErrSink, s.Name(), err)
		}
		next := cursor{event: upto, checkpoint: cur.checkpoint}
		if len(cps) > 0 {
			next.checkpoint = cps[len(cps)-1].Seq
		}
		// The batch is out: record that even when ctx has just ended, so a clean stop sends
		// nothing twice. Only a crash between Send and here repeats a batch (at least once).
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = f.store.set(sctx, s.Name(), tenant, next, f.cfg.Now())
		cancel()
		if err != nil {
			return sent, err
		}
		cur = next
		sent += len(entries)
		f.mu.Lock()
		f.status[s.Name()].Forwarded += int64(len(entries))
		f.mu.Unlock()
		if len(entries) < f.cfg.BatchSize && k < f.cfg.BatchSize {
			return sent, nil
		}
	}
}

func (f *Forwarder) failed(ctx context.Context, s Sink, err error) {
	f.mu.Lock()
	st := f.status[s.Name()]
	first := st.Healthy
	st.Healthy, st.Failures, st.LastError = false, st.Failures+1, err.Error()
	f.mu.Unlock()
	f.log.ErrorContext(ctx, "audit forwarding failed", "sink", s.Name(), "err", err)
	if !first {
		return
	}
	f.cfg.Alerter.Alert(ctx, audit.Alert{Kind: audit.AlertForwardFailed, Sink: s.Name(), Message: "audit forwarding to " + s.Name() + " failed: " + err.Error(), At: f.cfg.Now().UTC()})
	if f.cfg.Recorder != nil {
		rerr := f.cfg.Recorder.Record(ctx, audit.Event{
			Tenant: audit.SystemTenant, Actor: audit.Actor{ID: f.cfg.Node, Kind: audit.ActorSystem}, Origin: audit.Origin{Node: f.cfg.Node},
			Action: audit.ActionAuditForwardFail, Target: audit.Target{Kind: "audit_sink", ID: s.Name()}, Outcome: audit.Failure,
			Reason: "sink unavailable",
		})
		if rerr != nil {
			f.log.ErrorContext(ctx, "audit forwarding failure could not be recorded", "sink", s.Name(), "err", rerr)
		}
	}
}

func (f *Forwarder) succeeded(ctx context.Context, s Sink) {
	f.mu.Lock()
	st := f.status[s.Name()]
	wasDown := !st.Healthy
	st.Healthy, st.Failures, st.LastError, st.LastSuccess = true, 0, "", f.cfg.Now().UTC()
	f.mu.Unlock()
	if wasDown {
		f.cfg.Alerter.Alert(ctx, audit.Alert{Kind: audit.AlertForwardFailed, Sink: s.Name(), Cleared: true, Message: "audit forwarding to " + s.Name() + " works again", At: f.cfg.Now().UTC()})
	}
}

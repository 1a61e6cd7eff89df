package audit

import (
	"context"
	"time"
)

// AlertKind names a failure of the audit controls that must reach a human (PCI DSS 10.7.2).
type AlertKind string

// The alerts the audit log raises.
const (
	// AlertChainDamaged: verification found a chain modified, truncated or re-ordered.
	AlertChainDamaged AlertKind = "chain_damaged"
	// AlertVerifyFailed: verification could not run (database unreachable, …).
	AlertVerifyFailed AlertKind = "verify_failed"
	// AlertSealFailed: pending events could not be chained.
	AlertSealFailed AlertKind = "seal_failed"
	// AlertCheckpointFailed: a checkpoint could not be signed or stored.
	AlertCheckpointFailed AlertKind = "checkpoint_failed"
	// AlertForwardFailed: events could not be forwarded to a sink (PCI DSS 10.3.3).
	AlertForwardFailed AlertKind = "forward_failed"
)

// Alert is one raised or cleared alert. Message is safe to log and show: it never holds event
// details.
type Alert struct {
	Kind AlertKind
	// Tenant is the chain concerned, if any.
	Tenant string
	// Sink is the forwarding sink concerned, for AlertForwardFailed.
	Sink string
	// Seq is the first bad sequence number, for AlertChainDamaged.
	Seq     int64
	Message string
	// Cleared is true when the condition has ended (verification passes again, the sink
	// accepts events again); the app then lifts its banner and readiness detail.
	Cleared bool
	At      time.Time
}

// Alerter receives alerts. The app logs them at error level, reports them in /readyz, counts
// them in a metric and shows a console banner. Alert must not block for long.
type Alerter interface {
	Alert(ctx context.Context, a Alert)
}

// AlertFunc adapts a function to Alerter.
type AlertFunc func(ctx context.Context, a Alert)

var _ Alerter = AlertFunc(nil)

// Alert implements Alerter.
func (f AlertFunc) Alert(ctx context.Context, a Alert) {
	if f != nil {
		f(ctx, a)
	}
}

package auditlog

import "errors"

// Sentinel errors of the auditlog package. Event validation and signing errors come from
// package audit (audit.ErrInvalidEvent, audit.ErrUnknownAction, audit.ErrSensitiveDetail,
// audit.ErrSign), wrapped as they are.
var (
	// ErrNoTransaction means Append was called without the caller's transaction.
	ErrNoTransaction = errors.New("auditlog: no transaction to append to")
	// ErrAppend means the audit write failed; the action it records must fail with it.
	ErrAppend = errors.New("auditlog: append failed")
	// ErrSeal means chaining pending events failed; they stay pending and are retried.
	ErrSeal = errors.New("auditlog: sealing failed")
	// ErrEmptyChain means the tenant's chain holds no sealed event yet.
	ErrEmptyChain = errors.New("auditlog: chain is empty")
	// ErrNotFound means the requested event or checkpoint does not exist.
	ErrNotFound = errors.New("auditlog: not found")
	// ErrConfig means the log settings are unusable.
	ErrConfig = errors.New("auditlog: invalid configuration")
	// ErrRetention means an archive was asked to remove events younger than the retention
	// period.
	ErrRetention = errors.New("auditlog: events are inside the retention period")
	// ErrChainDamaged means an operation that must not run on a damaged chain (archiving)
	// found the chain damaged; run Verify for the details.
	ErrChainDamaged = errors.New("auditlog: chain is damaged")
	// ErrNotForwarded means an archive would remove events a forwarding sink has not yet
	// received.
	ErrNotForwarded = errors.New("auditlog: events not yet forwarded")
	// ErrBadQuery means a search query is out of bounds.
	ErrBadQuery = errors.New("auditlog: invalid search query")
)

package audit

import "errors"

// Sentinel errors of the audit package. Callers branch on them with errors.Is; the wrapped
// message adds context that never includes an event's detail values.
var (
	// ErrInvalidEvent means an event lacks a required field or carries a malformed one.
	ErrInvalidEvent = errors.New("audit: invalid event")
	// ErrUnknownAction means an event names an action outside the catalogue.
	ErrUnknownAction = errors.New("audit: action is not in the catalogue")
	// ErrSensitiveDetail means an event detail is named like a secret (password, token, CVV,
	// PAN, …) or its value looks like key material; such values never enter the audit log.
	ErrSensitiveDetail = errors.New("audit: detail looks like a secret")
	// ErrNoTransaction means Append was called without the caller's transaction.
	ErrNoTransaction = errors.New("audit: no transaction to append to")
	// ErrAppend means the audit write failed; the action it records must fail with it.
	ErrAppend = errors.New("audit: append failed")
	// ErrSeal means chaining pending events failed; they stay pending and are retried.
	ErrSeal = errors.New("audit: sealing failed")
	// ErrSign means a checkpoint or manifest could not be signed, or the signer returned a
	// signature that does not verify under its own public key.
	ErrSign = errors.New("audit: signing failed")
	// ErrEmptyChain means the tenant's chain holds no sealed event yet.
	ErrEmptyChain = errors.New("audit: chain is empty")
	// ErrNotFound means the requested event does not exist.
	ErrNotFound = errors.New("audit: event not found")
	// ErrConfig means the log, signer, monitor or retention settings are unusable.
	ErrConfig = errors.New("audit: invalid configuration")
	// ErrRetention means an archive was asked to remove events younger than the retention
	// period.
	ErrRetention = errors.New("audit: events are inside the retention period")
	// ErrChainDamaged means an operation that must not run on a damaged chain (archiving)
	// found the chain damaged; run Verify for the details.
	ErrChainDamaged = errors.New("audit: chain is damaged")
	// ErrNotForwarded means an archive would remove events a forwarding sink has not yet
	// received.
	ErrNotForwarded = errors.New("audit: events not yet forwarded")
	// ErrBundleFormat means an export bundle is not a well-formed Parley audit bundle.
	ErrBundleFormat = errors.New("audit: malformed export bundle")
	// ErrKeyFile means the checkpoint signing key file is missing, malformed or readable by
	// others than its owner.
	ErrKeyFile = errors.New("audit: unusable signing key file")
	// ErrBadQuery means a search query is out of bounds.
	ErrBadQuery = errors.New("audit: invalid search query")
)

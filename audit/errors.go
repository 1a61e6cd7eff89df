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
	// ErrSign means a checkpoint or manifest could not be signed, or the signer returned a
	// signature that does not verify under its own public key.
	ErrSign = errors.New("audit: signing failed")
	// ErrBundleFormat means an export bundle is not a well-formed Parley audit bundle.
	ErrBundleFormat = errors.New("audit: malformed export bundle")
	// ErrKeyFile means the checkpoint signing key file is missing, malformed or readable by
	// others than its owner.
	ErrKeyFile = errors.New("audit: unusable signing key file")
)

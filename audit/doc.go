// Package audit defines Parley's tamper-evident audit trail independently of any database:
// the audit Event and its PCI DSS 10.2.2 fields, the closed catalogue of audited actions
// (Catalogue, with the PCI DSS 10.2.1.x and HIPAA references each supports), the canonical
// encoding and hash chain (hash = SHA-256(canonical(event) ‖ prev_hash), genesis = 32 zero
// bytes), Ed25519-signed checkpoints (Signer, FileSigner, KeyRing), the export bundle
// (BundleWriter) and its offline verification (VerifyBundle), and the Walker both verifiers
// use to name the first bad sequence number and the kind of damage.
//
// CANONICAL.md in this folder specifies the encodings byte for byte, with a test vector and a
// short independent verifier, so an assessor can check a bundle without Parley.
//
// The database-backed log (appending inside the caller's transaction, sealing, checkpoints,
// verification, search, export, retention) is package audit/auditlog; forwarding to syslog
// and files is package audit/forward. This package imports only the standard library, so the
// offline verifier and the canonical encoding can be reviewed and fuzzed on their own.
//
// Events carry no secrets: Normalize refuses detail keys named like secrets (password, token,
// secret, cvv, pan, …) and values that look like key material, and masks card numbers through a
// Masker in free text and in the identifiers a client can choose (actor, target, request id),
// last four digits only as the app wires it.
package audit

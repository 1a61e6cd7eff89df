// Package auditlog is Parley's audit log on PostgreSQL or SQLite: one hash chain per tenant
// (and audit.SystemTenant for the installation), appended atomically with the change each
// event records, sealed into gapless sequence numbers, checkpointed with Ed25519 signatures,
// verified on demand and in the background, searchable, exportable as an offline-verifiable
// bundle, and archived without breaking the chain.
//
// # Appending: outbox and sealer
//
// Append writes the event into audit_outbox inside the caller's transaction: the event exists
// if and only if the change it records commits, and an audit write that fails fails the
// caller's action (fail closed). Record does the same for events with no other write. The
// sealer (Run, or Seal) then moves pending events, in outbox order, into audit_events in
// batches of up to SealBatch: under a lock on the tenant's audit_chains row (SELECT … FOR
// UPDATE on PostgreSQL; SQLite serialises writers with IMMEDIATE transactions) it gives each
// event the next sequence number and hash = SHA-256(canonical(event) ‖ prev_hash), inserts
// them, deletes them from the outbox and advances the head, in one transaction.
//
// This design was chosen over locking the chain head in the caller's transaction because the
// lock would then be held for the whole of every audited business transaction, serialising a
// tenant's writes and inviting lock-order deadlocks with the caller's own rows. The outbox
// insert takes no shared lock, so appends from many goroutines and nodes proceed in parallel,
// and sealing amortises the chain lock, hashing and index writes over a batch. Sequence
// numbers stay gapless because only the sealer assigns them, under the lock, in one
// transaction. The cost is a short window (SealInterval, 250 ms by default; Record and Kick
// shorten it) during which a committed event is durable but not yet chained or searchable.
//
// # Checkpoints and verification
//
// After sealing, a checkpoint (tenant, seq, head hash, time) is signed when CheckpointEvery
// events or CheckpointInterval have passed. Verify recomputes a chain, checks every checkpoint
// signature against the trusted keys (never keys read from the database) and reports the
// first bad sequence number with the kind of damage (audit.Damage). Monitor runs Verify on an
// interval, incrementally from the latest checkpoint, with a full pass daily, and raises
// alerts through audit.Alerter; it remembers each chain's head, so a chain cut back together
// with its head and checkpoints is still noticed.
//
// What cannot be detected from the database alone: events removed after the last checkpoint
// together with the head record, by someone who also rewrites the head. Frequent checkpoints,
// forwarding (package audit/forward) and the monitor's memory narrow that window.
//
// # Retention
//
// Events stay online for Config.Retention (at least 12 months, PCI DSS 10.5.1). Archive
// exports the oldest events to a bundle, signs an anchor checkpoint at the last archived
// event, and deletes them with an ActionAuditArchive event in one transaction; Verify then
// starts the chain at the anchor. Triggers refuse UPDATE and DELETE of events and checkpoints
// outside an archive (defence in depth; the chain and signatures are what detect tampering).
package auditlog

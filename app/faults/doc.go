// Package faults holds Parley's fault scenarios and what they need: a TCP proxy that delays or
// cuts a connection (a slow or unreachable database, Vault or NATS), private PostgreSQL and
// Vault servers that a test may stop and start without disturbing other tests, and the tests
// themselves (PostgreSQL restarted under load, Vault stopped and started, one of three nodes
// killed, a slow database), which check the delivery contract through real WebSockets: no acked
// message lost or duplicated, retryable errors while the fault lasts, recovery without
// intervention, bounded queues.
//
// The scenarios run only when PARLEY_TEST_FAULTS=1 (`make fault-…` sets it; CI runs them), so the
// ordinary suite never restarts a server under another test.
package faults

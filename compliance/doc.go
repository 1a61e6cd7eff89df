// Package compliance groups Parley's compliance controls that are not policy
// decisions or key management: detection and masking of cardholder data
// (compliance/pan), per-tenant redaction rules for other regulated data
// (compliance/redact), the secure card form, the PAN discovery scan, the
// control catalogue and evidence reports.
//
// The packages below compliance never import app/ and know nothing of HTTP,
// so each control can be tested, reused by the command line and reviewed by
// an assessor on its own.
package compliance

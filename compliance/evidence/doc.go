// Package evidence is Parley's compliance evidence: a catalogue of the PCI DSS v4.0.1
// requirements and HIPAA Security Rule sections Parley supports (Controls), the automated checks
// that test them against the live configuration and data (Checks), and the evidence report an
// assessor receives — JSON, a self-contained printable HTML page and a PDF — bundled with its
// artifacts and a signed manifest that `parley evidence verify` checks offline.
//
// A check reads what it needs through the small interfaces of Sources; the application fills
// them from its stores and configuration, and the tests from plain values. A check never decrypts
// content and never sees a card number.
package evidence

// Package redaction serves each tenant's data-masking settings: the PAN masking mode chat uses
// (BIN and last four, or last four only; PCI DSS 3.4.1) and the redaction rules for other
// regulated data (compliance/redact), with the built-in US SSN and IBAN rules off by default.
// It holds the settings' SQL (Store) and hands the chat path a compiled, cached Policy per tenant
// (Policies); package redactionhttp serves the JSON API and the console page with its "test your
// rule" form. Every change is audited (security.policy.change) in the transaction that makes it.
package redaction

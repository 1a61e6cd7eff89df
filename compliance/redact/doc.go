// Package redact applies a tenant's redaction rules to text: regulated
// data other than card numbers (which compliance/pan masks first), such as
// US Social Security numbers, IBANs or the tenant's own identifiers.
//
// A Rule is data a tenant administrator edits: a name, a Go RE2 pattern,
// a replacement and an enabled flag, optionally with a named checksum
// Validator. Rules are validated before use (size and complexity limits,
// patterns that could match the empty string, replacement references to
// groups the pattern lacks) with errors that name the rule and the field.
// RE2 matching runs in time linear in the input, so a tenant's pattern
// cannot stall the chat path.
//
// BuiltinRules returns the rules Parley ships, off by default: US SSN
// (area, group and serial exclusions) and IBAN (ISO 13616 mod-97 checksum
// and per-country length). An Engine applies the enabled rules of a
// tenant, in order, to a message; TryRule previews one rule on a sample
// text for the "test your rule" page.
package redact

// Package scan is Parley's PAN discovery scan (PCI DSS v4.0.1 3.5.1, 12.5.2): it looks for card
// numbers wherever Parley keeps data — every text and binary column of the database, the
// transcript fields sealed by the envelope (decrypted one row at a time through an Opener and
// zeroed after), log files and export folders (gzip included) — and reports, per location, how
// many were found with a few masked samples. It never reports or stores a card number: samples
// are masked by compliance/pan (last four digits by default).
//
// A Report is kept as evidence (Store, the pan_scan_runs table); `parley scan` runs it from the
// command line with a progress bar on stderr and exits non-zero when anything was found.
package scan

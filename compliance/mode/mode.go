// Package mode is the compliance mode: a per-organisation setting — PCI DSS, HIPAA or both —
// under which Parley refuses any setting that would break one of the framework's controls, and
// reports drift: an automated evidence check that fails while the mode covering its control is on.
//
// The rules are one table (Rules) mapping each setting to the evidence check whose predicate
// decides it; the predicates are the evidence checks' own (compliance/evidence), with the same
// thresholds, so a refusal and a check can never disagree. The package knows nothing of HTTP.
package mode

import (
	"errors"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/compliance/evidence"
)

// Mode is which frameworks an organisation enforces. The zero Mode enforces none.
type Mode struct {
	PCI   bool `json:"pci"`
	HIPAA bool `json:"hipaa"`
}

// ErrInvalidMode is returned by Parse for anything but none, pci, hipaa or both.
var ErrInvalidMode = errors.New("compliance mode: choose none, pci, hipaa or pci,hipaa")

// Parse reads "none" (or ""), "pci", "hipaa", "pci,hipaa" (either order) or "both".
func Parse(s string) (Mode, error) {
	var m Mode
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", "none":
		return m, nil
	case "both":
		return Mode{PCI: true, HIPAA: true}, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > 2 {
		return Mode{}, ErrInvalidMode
	}
	for _, p := range parts {
		switch strings.TrimSpace(p) {
		case string(evidence.PCI):
			if m.PCI {
				return Mode{}, ErrInvalidMode
			}
			m.PCI = true
		case string(evidence.HIPAA):
			if m.HIPAA {
				return Mode{}, ErrInvalidMode
			}
			m.HIPAA = true
		default:
			return Mode{}, ErrInvalidMode
		}
	}
	return m, nil
}

// String is the mode as Parse reads it: none, pci, hipaa or pci,hipaa.
func (m Mode) String() string {
	switch {
	case m.PCI && m.HIPAA:
		return "pci,hipaa"
	case m.PCI:
		return "pci"
	case m.HIPAA:
		return "hipaa"
	}
	return "none"
}

// On reports whether any framework is enforced.
func (m Mode) On() bool { return m.PCI || m.HIPAA }

// Frameworks lists the enforced frameworks, PCI DSS first.
func (m Mode) Frameworks() []evidence.Framework {
	var out []evidence.Framework
	if m.PCI {
		out = append(out, evidence.PCI)
	}
	if m.HIPAA {
		out = append(out, evidence.HIPAA)
	}
	return out
}

// Name is the mode for people: "PCI DSS v4.0.1 and HIPAA Security Rule (45 CFR 164)", or "none".
func (m Mode) Name() string {
	var names []string
	for _, f := range m.Frameworks() {
		names = append(names, f.Name())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " and ")
}

// Dropped is what next no longer enforces of m: turning a framework off needs a reason.
func (m Mode) Dropped(next Mode) Mode {
	return Mode{PCI: m.PCI && !next.PCI, HIPAA: m.HIPAA && !next.HIPAA}
}

// Controls returns the controls of the enforced frameworks that an automated check supports,
// named as an assessor writes them ("PCI DSS 8.3.4", "HIPAA 164.312(d)").
func (m Mode) Controls(check string) []string {
	var out []string
	for _, f := range m.Frameworks() {
		for _, c := range evidence.ControlsUsing(f, check) {
			out = append(out, c.Ref())
		}
	}
	return out
}

// Refusal is a setting refused because it would break controls of the compliance mode. It is the
// client's to fix: its message names the controls and what falls short.
type Refusal struct {
	Setting Setting
	// Field is the request field at fault ("min_length", "required", "transcript_email").
	Field string
	// Controls are the controls the setting would break, as assessors name them.
	Controls []string
	// Problems say what falls short, in the evidence check's words.
	Problems []string
}

// ErrRefused is matched by every *Refusal.
var ErrRefused = errors.New("refused by the compliance mode")

// RefusalCode is the stable API error code of a refusal.
const RefusalCode = "compliance_mode"

func (r *Refusal) Error() string {
	return fmt.Sprintf("compliance mode: %s refused: would break %s: %s", r.Setting, strings.Join(r.Controls, ", "), strings.Join(r.Problems, "; "))
}

// Unwrap returns ErrRefused.
func (r *Refusal) Unwrap() error { return ErrRefused }

// Message is the refusal for the administrator: the controls, what falls short, the way out.
func (r *Refusal) Message() string {
	return fmt.Sprintf("The compliance mode refuses this: it would break %s (%s). Keep the setting within the control, or turn the compliance mode off first (with a reason).",
		strings.Join(r.Controls, ", "), strings.Join(r.Problems, "; "))
}

// RefusalDetails is the structured form of a refusal in the API's error body.
type RefusalDetails struct {
	Setting string `json:"setting"`
	// Control is the first control broken; Controls all of them.
	Control  string   `json:"control"`
	Controls []string `json:"controls"`
	Problems []string `json:"problems"`
}

// Refusal returns the refusal's stable code, safe message, field and details, the form the
// API's error renderer (app/api) answers with 409.
func (r *Refusal) Refusal() (code, message, field string, details any) {
	d := RefusalDetails{Setting: string(r.Setting), Controls: r.Controls, Problems: r.Problems}
	if len(r.Controls) > 0 {
		d.Control = r.Controls[0]
	}
	return RefusalCode, r.Message(), r.Field, d
}

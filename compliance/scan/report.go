package scan

import (
	"time"

	"github.com/parleyhq/parley/compliance/pan"
)

// Kinds of location.
const (
	// KindColumn is a database column read as stored.
	KindColumn = "column"
	// KindSealed is a database column sealed by the envelope, read decrypted.
	KindSealed = "sealed"
	// KindFile is a file (a log, an export).
	KindFile = "file"
)

// Outcomes of a scan.
const (
	OutcomeClean      = "clean"
	OutcomeFound      = "found"
	OutcomeIncomplete = "incomplete"
)

// Sample is a masked example of a card number found in a location.
type Sample struct {
	// Masked is the card number as compliance/pan masks it.
	Masked string `json:"masked"`
	Brand  string `json:"brand"`
	// Ref locates it: a row id, or a line number.
	Ref string `json:"ref"`
}

// Location is one place scanned and what was found there.
type Location struct {
	Kind string `json:"kind"`
	// Name is "table.column" or the file's path.
	Name string `json:"name"`
	// Items counts rows (or lines) read; Bytes the bytes read.
	Items int64 `json:"items"`
	Bytes int64 `json:"bytes"`
	// Matches counts card numbers found; Hits the rows (or lines) holding at least one.
	Matches int64 `json:"matches"`
	Hits    int64 `json:"hits"`
	// Unreadable counts sealed values that could not be opened (a crypto-shredded key).
	Unreadable int64    `json:"unreadable,omitempty"`
	Samples    []Sample `json:"samples,omitempty"`
	// Error says why the location could not be read to the end.
	Error string `json:"error,omitempty"`
}

// Report is the result of one scan.
type Report struct {
	ID         string     `json:"id"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt time.Time  `json:"finished_at"`
	Node       string     `json:"node"`
	Actor      string     `json:"actor"`
	Locations  []Location `json:"locations"`
}

// Masked returns a copy of r whose free-text fields — location names (file paths), errors, sample
// references, node and actor — have anything that reads as a card number masked to its last
// four digits, as in any other text: a path such as /var/log/2905386197/001.log reads as one.
// Samples are the scanner's own masking and are left as they are: an unmasked one is a defect
// that Store.Save refuses.
func (r Report) Masked() Report {
	m := reportMasker
	out := r
	out.ID, out.Node, out.Actor = m.MaskString(r.ID), m.MaskString(r.Node), m.MaskString(r.Actor)
	out.Locations = make([]Location, len(r.Locations))
	for i, l := range r.Locations {
		l.Name, l.Error = m.MaskString(l.Name), m.MaskString(l.Error)
		samples := make([]Sample, len(l.Samples))
		for j, s := range l.Samples {
			s.Ref = m.MaskString(s.Ref)
			samples[j] = s
		}
		if l.Samples == nil {
			samples = nil
		}
		l.Samples = samples
		out.Locations[i] = l
	}
	return out
}

// reportMasker masks reports' free text to the last four digits.
var reportMasker = func() *pan.Masker {
	m, err := pan.NewMasker(pan.Options{Mode: pan.ModeLast4})
	if err != nil {
		panic(err) // a constant, valid configuration
	}
	return m
}()

// Matches is the number of card numbers found in every location.
func (r *Report) Matches() int64 {
	var n int64
	for _, l := range r.Locations {
		n += l.Matches
	}
	return n
}

// Errors is the number of locations that could not be read to the end.
func (r *Report) Errors() int {
	n := 0
	for _, l := range r.Locations {
		if l.Error != "" {
			n++
		}
	}
	return n
}

// Outcome is OutcomeFound when a card number was found, OutcomeIncomplete when nothing was found
// but a location could not be read, OutcomeClean otherwise.
func (r *Report) Outcome() string {
	switch {
	case r.Matches() > 0:
		return OutcomeFound
	case r.Errors() > 0:
		return OutcomeIncomplete
	}
	return OutcomeClean
}

package evidence

import (
	"context"
	"time"
)

// Report is one organisation's evidence for one framework and period.
type Report struct {
	Format       string    `json:"format"`
	Tenant       string    `json:"tenant"`
	Organisation string    `json:"organisation"`
	Framework    Framework `json:"framework"`
	// FrameworkName is the framework's full name ("PCI DSS v4.0.1").
	FrameworkName string    `json:"framework_name"`
	From          time.Time `json:"from"`
	To            time.Time `json:"to"`
	GeneratedAt   time.Time `json:"generated_at"`
	GeneratedBy   string    `json:"generated_by"`
	// Events is how many audit events the period holds; NoEvents says so in words when none.
	Events   int64           `json:"events"`
	NoEvents string          `json:"no_events,omitempty"`
	Summary  Summary         `json:"summary"`
	Controls []ControlResult `json:"controls"`
	// Checks are every automated check's result, once each.
	Checks []Result `json:"checks"`
}

// ReportFormat names the report's JSON layout.
const ReportFormat = "parley.evidence.report.v1"

// Summary counts the controls by outcome, and the checks.
type Summary struct {
	Pass         int `json:"pass"`
	Fail         int `json:"fail"`
	Manual       int `json:"manual"`
	ChecksPass   int `json:"checks_pass"`
	ChecksFail   int `json:"checks_fail"`
	ChecksManual int `json:"checks_manual"`
}

// ControlResult is a control with its checks' results. Its status is fail when a check
// failed, manual when it has no automated check or one that needs attestation, pass otherwise.
type ControlResult struct {
	Control
	Status  Status   `json:"status"`
	Results []Result `json:"results"`
}

// Period is the report's request: whose, which framework, which period, by whom.
type Period struct {
	Tenant       string
	Organisation string
	Framework    Framework
	From, To     time.Time
	By           string
}

// Evaluate runs every check the framework's controls use, once each, and builds the report.
// events is the number of audit events in the period.
func Evaluate(ctx context.Context, in Input, p Period, events int64) Report {
	controls := Catalogue(p.Framework)
	results := map[string]Result{}
	r := Report{Format: ReportFormat, Tenant: p.Tenant, Organisation: p.Organisation, Framework: p.Framework,
		FrameworkName: p.Framework.Name(), From: p.From.UTC(), To: p.To.UTC(), GeneratedAt: in.Now.UTC(), GeneratedBy: p.By, Events: events}
	if events == 0 {
		r.NoEvents = "No audit events were recorded in this period: the audit export is empty, and the checks below describe the configuration at the time of the report."
	}
	for _, c := range Checks() {
		used := false
		for _, ctl := range controls {
			for _, id := range ctl.Checks {
				used = used || id == c.ID
			}
		}
		if !used {
			continue
		}
		res := c.Run(ctx, in)
		res.Check, res.Title = c.ID, c.Title
		results[c.ID] = res
		r.Checks = append(r.Checks, res)
		switch res.Status {
		case Pass:
			r.Summary.ChecksPass++
		case Fail:
			r.Summary.ChecksFail++
		default:
			r.Summary.ChecksManual++
		}
	}
	for _, ctl := range controls {
		cr := ControlResult{Control: ctl, Status: Pass}
		if len(ctl.Checks) == 0 {
			cr.Status = Manual
		}
		for _, id := range ctl.Checks {
			res := results[id]
			cr.Results = append(cr.Results, res)
			switch {
			case res.Status == Fail:
				cr.Status = Fail
			case res.Status == Manual && cr.Status == Pass:
				cr.Status = Manual
			}
		}
		switch cr.Status {
		case Pass:
			r.Summary.Pass++
		case Fail:
			r.Summary.Fail++
		default:
			r.Summary.Manual++
		}
		r.Controls = append(r.Controls, cr)
	}
	return r
}

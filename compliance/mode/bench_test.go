package mode

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/compliance/evidence"
)

// BenchmarkEvaluate is the decision every guarded settings change makes under a mode: the rule's
// predicate, then the controls of both frameworks it would break.
func BenchmarkEvaluate(b *testing.B) {
	b.ReportAllocs()
	v := compliantValue()
	v.SignIn.LockoutThreshold = 20
	for b.Loop() {
		if both.Evaluate(SettingLockout, v) == nil {
			b.Fatal("not refused")
		}
	}
}

// BenchmarkTotals is what each /readyz and /metrics request reads: the cached drift of 1,000
// organisations in a mode, counted.
func BenchmarkTotals(b *testing.B) {
	b.ReportAllocs()
	modes := fakeModes{}
	for i := range 1000 {
		modes[fmt.Sprintf("org-%d", i)] = pci
	}
	v := compliantValue()
	v.Sites[0].TranscriptEmail = true
	src := &valueSources{v: v}
	var skip []string
	for _, c := range evidence.Checks() {
		if c.ID != evidence.CheckTranscriptEmail {
			skip = append(skip, c.ID)
		}
	}
	m := &Monitor{Modes: modes, Skip: skip, Input: func(id string) evidence.Input {
		return evidence.Input{Tenant: id, Now: driftNow, Sources: evidence.Sources{Platform: v.Platform, Accounts: src, Sites: src}}
	}}
	if err := m.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if m.Totals().Checks != 1000 {
			b.Fatal("wrong count")
		}
	}
}

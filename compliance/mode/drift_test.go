package mode

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/compliance/evidence"
)

// fakeModes serves modes from a map.
type fakeModes map[string]Mode

func (f fakeModes) Get(_ context.Context, id string) (State, error) { return State{Mode: f[id]}, nil }
func (f fakeModes) InMode(context.Context) (map[string]Mode, error) {
	out := map[string]Mode{}
	for id, m := range f {
		if m.On() {
			out[id] = m
		}
	}
	return out, nil
}

var driftNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// TestMonitor: drift is each check of the mode's controls that fails, with the controls of the
// mode's frameworks and a fix; organisations out of the mode have none; a mode changed since the
// last computation reads as pending until computed again; totals count across organisations.
func TestMonitor(t *testing.T) {
	values := map[string]Value{}
	ok := compliantValue()
	ok.Platform.TimeZone = "UTC"
	bad := compliantValue()
	bad.Platform.TimeZone = "UTC"
	bad.SignIn.LockoutThreshold = 50
	bad.Sites[0].TranscriptEmail = true
	values["clean"], values["weak"], values["off"] = ok, bad, bad
	modes := fakeModes{"clean": pci, "weak": hipaa, "off": {}}
	only := []string{evidence.CheckLockout, evidence.CheckTranscriptEmail, evidence.CheckIdleTimeout}
	var skip []string
	for _, c := range evidence.Checks() {
		if !containsString(only, c.ID) {
			skip = append(skip, c.ID)
		}
	}
	m := &Monitor{Modes: modes, Skip: skip, Now: func() time.Time { return driftNow }, Input: func(id string) evidence.Input {
		v := values[id]
		src := &valueSources{v: v}
		return evidence.Input{Tenant: id, Now: driftNow, Sources: evidence.Sources{Platform: v.Platform, Accounts: src, Sites: src}}
	}}
	ctx := context.Background()
	if d, _ := m.For(ctx, "weak"); !d.Pending() {
		t.Fatalf("before the first computation: %+v, want pending", d)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	d, _ := m.For(ctx, "weak")
	if d.Pending() || len(d.Items) != 2 || d.Items[0].Check != evidence.CheckLockout || d.Items[1].Check != evidence.CheckTranscriptEmail {
		t.Fatalf("weak: %+v", d)
	}
	if got := d.Items[0].Controls; len(got) != 2 || got[0] != "HIPAA 164.312(d)" {
		t.Errorf("lockout controls under HIPAA: %v", got)
	}
	if d.Items[0].Fix == "" || d.Items[0].Link != "/security" || d.Items[1].Link != "/sites" {
		t.Errorf("fixes: %+v", d.Items)
	}
	if d, _ := m.For(ctx, "clean"); len(d.Items) != 0 || d.Pending() {
		t.Errorf("clean: %+v", d)
	}
	if d, _ := m.For(ctx, "off"); d.Mode.On() || len(d.Items) != 0 {
		t.Errorf("off: %+v", d)
	}
	if tot := m.Totals(); tot.Organisations != 2 || tot.Drifting != 1 || tot.Checks != 2 || !tot.ComputedAt.Equal(driftNow) {
		t.Errorf("totals: %+v", tot)
	}
	// Turned on elsewhere: pending here until computed for that organisation.
	modes["off"] = pci
	if d, _ := m.For(ctx, "off"); !d.Pending() {
		t.Errorf("turned on, not computed: %+v", d)
	}
	if err := m.RefreshTenant(ctx, "off"); err != nil {
		t.Fatal(err)
	}
	if d, _ := m.For(ctx, "off"); len(d.Items) != 2 || d.Items[0].Controls[0] != "PCI DSS 8.3.4" {
		t.Errorf("off turned pci: %+v", d)
	}
	modes["weak"] = Mode{}
	if err := m.RefreshTenant(ctx, "weak"); err != nil {
		t.Fatal(err)
	}
	if tot := m.Totals(); tot.Organisations != 2 || tot.Checks != 2 {
		t.Errorf("after weak left the mode: %+v", tot)
	}
	for range 200 { // never blocks, however many changes pile up
		m.Changed("clean")
	}
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

package scan

import (
	"encoding/json"
	"testing"

	"github.com/parleyhq/parley/compliance/pan"
)

// TestReportMasked: a path or reference whose digits read as a card number is masked in the
// report, like any other text, so the report can be printed and stored; the original is unchanged.
func TestReportMasked(t *testing.T) {
	r := Report{ID: "run-1", Node: "node-a", Actor: "cli:ops", Locations: []Location{
		{Kind: "file", Name: "/tmp/TestScan4111111111/111111.log", Matches: 1, Hits: 1,
			Samples: []Sample{{Masked: "••••••••••••1111", Brand: "visa", Ref: "line 4111-1111-1111-1111"}}},
		{Kind: "file", Name: "/var/log/parley/app.log", Error: "open /var/log/4111 1111 1111 1111: permission denied"},
	}}
	m := r.Masked()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if pan.Contains(string(b)) {
		t.Fatalf("masked report still holds a card number: %s", b)
	}
	if m.Locations[1].Name != "/var/log/parley/app.log" || m.Locations[0].Samples[0].Brand != "visa" {
		t.Fatalf("masking changed text that holds no card number: %+v", m.Locations)
	}
	if r.Locations[0].Name != "/tmp/TestScan4111111111/111111.log" {
		t.Fatalf("Masked changed the original report: %q", r.Locations[0].Name)
	}
}

package audit

import (
	"testing"
)

func TestCatalogue(t *testing.T) {
	seen := map[Action]bool{}
	for _, a := range Catalogue() {
		t.Run(string(a.Action), func(t *testing.T) {
			if seen[a.Action] {
				t.Error("listed twice")
			}
			seen[a.Action] = true
			if n := len(a.Action); n == 0 || n > 32 {
				t.Errorf("got %d characters, want 1 to 32 (an RFC 5424 MSGID)", n)
			}
			for _, c := range []byte(a.Action) {
				if c < 33 || c > 126 {
					t.Errorf("got character %q, want printable ASCII", c)
				}
			}
			if a.Description == "" || a.Category == "" {
				t.Error("got no description or category")
			}
			if len(a.PCI)+len(a.HIPAA) == 0 {
				t.Error("got no PCI DSS or HIPAA reference")
			}
			if info, ok := LookupAction(a.Action); !ok || info.Description != a.Description || !a.Action.Valid() {
				t.Error("LookupAction disagrees with Catalogue")
			}
		})
	}
	if _, ok := LookupAction("made.up"); ok {
		t.Error("got a made-up action from LookupAction")
	}
	c := Catalogue()
	c[0].PCI[0] = "changed"
	if info, _ := LookupAction(c[0].Action); info.PCI[0] == "changed" {
		t.Error("Catalogue hands out the table itself")
	}
}

// TestCatalogueCoversPCI10_2_1 checks each PCI DSS 10.2.1 sub-requirement and HIPAA's ePHI
// access is supported by at least one action.
func TestCatalogueCoversPCI10_2_1(t *testing.T) {
	refs := map[string]int{}
	for _, a := range Catalogue() {
		for _, r := range append(a.PCI, a.HIPAA...) {
			refs[r]++
		}
	}
	for _, want := range []string{"10.2.1.1", "10.2.1.2", "10.2.1.3", "10.2.1.4", "10.2.1.5", "10.2.1.6", "10.2.1.7", "164.312(b)", "164.312(a)(2)(ii)"} {
		if refs[want] == 0 {
			t.Errorf("no action supports %s", want)
		}
	}
}

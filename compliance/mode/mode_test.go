package mode

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Mode
		err  bool
	}{
		{"", Mode{}, false},
		{"none", Mode{}, false},
		{"pci", Mode{PCI: true}, false},
		{"HIPAA", Mode{HIPAA: true}, false},
		{"pci,hipaa", Mode{PCI: true, HIPAA: true}, false},
		{"hipaa, pci", Mode{PCI: true, HIPAA: true}, false},
		{"both", Mode{PCI: true, HIPAA: true}, false},
		{"pci,pci", Mode{}, true},
		{"sox", Mode{}, true},
		{"pci,hipaa,pci", Mode{}, true},
		{"pci,", Mode{}, true},
		{"4111 1111 1111 1111", Mode{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.err {
				if !errors.Is(err, ErrInvalidMode) {
					t.Fatalf("got %v, %v; want ErrInvalidMode", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
			if back, err := Parse(got.String()); err != nil || back != got {
				t.Errorf("round trip of %s: got %v, %v", got, back, err)
			}
		})
	}
}

func TestDropped(t *testing.T) {
	both := Mode{PCI: true, HIPAA: true}
	if d := both.Dropped(Mode{HIPAA: true}); d != (Mode{PCI: true}) {
		t.Errorf("got %v, want pci", d)
	}
	if d := (Mode{}).Dropped(both); d.On() {
		t.Errorf("turning on drops nothing; got %v", d)
	}
	if got := both.Name(); got != "PCI DSS v4.0.1 and HIPAA Security Rule (45 CFR 164)" {
		t.Errorf("got name %q", got)
	}
}

// FuzzParse: Parse never panics, and whatever it accepts prints back to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "none", "pci", "hipaa", "pci,hipaa", "both", "pci,,", ",", "PCI , HIPAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse(s)
		if err != nil {
			return
		}
		if back, err := Parse(m.String()); err != nil || back != m {
			t.Fatalf("%q: parsed %v, printed %q, read back %v %v", s, m, m.String(), back, err)
		}
	})
}

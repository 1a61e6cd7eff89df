package password

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		err  error
	}{
		{"ascii unchanged", "Tr0ub4dor&3x", "Tr0ub4dor&3x", nil},
		{"spaces kept", "  two  spaces  ", "  two  spaces  ", nil},
		{"decomposed accent composed", "cafe\u0301", "café", nil},
		{"full-width folded", "ｐａｓｓ１", "pass1", nil},
		{"ligature expanded", "ﬁle", "file", nil},
		{"superscript folded", "x²", "x2", nil},
		{"case kept", "ÉCOLE", "ÉCOLE", nil},
		{"at the byte cap", strings.Repeat("a", MaxBytes), strings.Repeat("a", MaxBytes), nil},
		{"over the byte cap", strings.Repeat("a", MaxBytes+1), "", ErrTooLong},
		{"over the cap after expansion", strings.Repeat("\uFDFA", 100), "", ErrTooLong},
		{"invalid utf8", "pass\xffword", "", ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("got error %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNormalizeErrorsHideThePassword(t *testing.T) {
	for _, in := range []string{strings.Repeat("hunter2", 200), "hunter2\xff"} {
		_, err := Normalize(in)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("got error %v, want one that does not quote the password", err)
		}
	}
}

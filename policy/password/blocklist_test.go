package password

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEmbeddedList(t *testing.T) {
	sc := bufio.NewScanner(bytes.NewReader(commonPasswords))
	seen := make(map[string]bool)
	line := 0
	for sc.Scan() {
		line++
		w := sc.Text()
		if w == "" || w != strings.ToLower(w) || strings.TrimSpace(w) != w {
			t.Fatalf("line %d: got %q, want a lower-case, trimmed, non-empty entry", line, w)
		}
		if n, err := Normalize(w); err != nil || n != w {
			t.Fatalf("line %d: got %q normalized to %q (%v), want it unchanged", line, w, n, err)
		}
		if seen[w] {
			t.Fatalf("line %d: %q repeated", line, w)
		}
		seen[w] = true
	}
	if len(seen) < 10000 {
		t.Errorf("got %d entries, want at least 10000", len(seen))
	}
	if got := NewBlocklist().Len(); got != len(seen) {
		t.Errorf("got Len %d, want %d", got, len(seen))
	}
}

func TestBlocklistContains(t *testing.T) {
	b := NewBlocklist()
	tests := []struct {
		pw   string
		want bool
	}{
		{"123456", true},
		{"password", true},
		{"PassWord", true},
		{"qwerty123456", true},
		{"letmein", true},
		{"Tr0ub4dor&3x", false},
		{"correct horse battery staple", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.pw, func(t *testing.T) {
			if got := b.Contains(tt.pw); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseBlocklist(t *testing.T) {
	b, err := ParseBlocklist(strings.NewReader("Parley2025\r\n\nｃｈａｔ１２３\nparley2025\n"))
	if err != nil {
		t.Fatalf("ParseBlocklist: %v", err)
	}
	if b.Len() != 2 || !b.Contains("PARLEY2025") || !b.Contains("chat123") {
		t.Errorf("got %d entries, want parley2025 and chat123", b.Len())
	}

	tests := []struct {
		name string
		in   string
		want error
		line string
	}{
		{"invalid utf8", "ok\nbad\xff\n", ErrInvalidUTF8, "line 2"},
		{"over the cap", "ok\n" + strings.Repeat("x", MaxBytes+1) + "\n", ErrTooLong, "line 2"},
		{"line too long for the scanner", strings.Repeat("x", 3*MaxBytes), nil, "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBlocklist(strings.NewReader(tt.in))
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.line) || strings.Contains(err.Error(), "xxxx") {
				t.Errorf("got %q, want it to name %s and not quote the entry", err, tt.line)
			}
		})
	}
}

package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/parleyhq/parley/compliance/pan"
)

// streamCount scans text with small chunks so long lines are cut.
func streamCount(t testing.TB, text string, chunk, over int) Location {
	t.Helper()
	var loc Location
	c := (&Scanner{MaxSamples: 100}).counter(&loc)
	c.chunk, c.overlap = chunk, over
	if err := c.stream(context.Background(), strings.NewReader(text), func(int64) {}); err != nil {
		t.Fatal(err)
	}
	return loc
}

// reference counts card numbers line by line on whole lines.
func reference(text string) (matches, hits, lines int64) {
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		lines++
		if n := len(pan.Find(line)); n > 0 {
			matches += int64(n)
			hits++
		}
	}
	return
}

func TestStream(t *testing.T) {
	long := strings.Repeat("order 12 ", 800)
	tests := []struct {
		name                 string
		text                 string
		matches, hits, lines int64
	}{
		{"clean", "GET /healthz 200\nnothing here\n", 0, 0, 2},
		{"one per line", "card 4111 1111 1111 1111\nand 5555-5555-5555-4444 ok\n", 2, 2, 2},
		{"two in a line, no final newline", "4111111111111111 and 378282246310005", 2, 1, 1},
		{"full-width digits", "ｃａｒｄ ４１１１１１１１１１１１１１１１\n", 1, 1, 1},
		{"luhn fails", "4111 1111 1111 1112\n", 0, 0, 1},
		{"long line, card across a chunk boundary", long + "4111 1111 1111 1111 " + long + "\n", 1, 1, 1},
		{"long line, many cards", strings.Repeat("x 4111111111111111 ", 500) + "\n", 500, 1, 1},
		{"binary", "\x00\xff\xfe4111111111111111\x00\n", 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := streamCount(t, tt.text, 1024, 1024)
			if loc.Matches != tt.matches || loc.Hits != tt.hits || loc.Items != tt.lines || loc.Bytes != int64(len(tt.text)) {
				t.Errorf("matches %d, hits %d, lines %d, bytes %d; want %d, %d, %d, %d", loc.Matches, loc.Hits, loc.Items, loc.Bytes,
					tt.matches, tt.hits, tt.lines, len(tt.text))
			}
			if want := min(tt.matches, 100); int64(len(loc.Samples)) != want {
				t.Errorf("%d samples, want %d", len(loc.Samples), want)
			}
			b, _ := json.Marshal(loc)
			if pan.Contains(string(b)) {
				t.Errorf("the location holds a card number: %s", b)
			}
		})
	}
}

func TestSamplesMasked(t *testing.T) {
	loc := streamCount(t, "x\ny 4111 1111 1111 1111 12/28 cvv 123\n", lineChunk, overlap)
	if len(loc.Samples) != 1 {
		t.Fatalf("samples = %+v", loc.Samples)
	}
	if s := loc.Samples[0]; s.Masked != "•••• •••• •••• 1111" || s.Brand != "visa" || s.Ref != "line 2" {
		t.Errorf("sample = %+v", s)
	}
}

// FuzzStream: chunked counting agrees with counting whole lines, and no sample is a card
// number.
func FuzzStream(f *testing.F) {
	f.Add([]byte("4111 1111 1111 1111\n"), uint16(1000))
	f.Add([]byte("a\n4111111111111111 378282246310005\nb"), uint16(2040))
	f.Add([]byte("４１１１１１１１１１１１１１１１"), uint16(2030))
	f.Add([]byte("4111\u200b1111\u200b1111\u200b1111"), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, pad uint16) {
		text := strings.Repeat("z", int(pad)%4096) + string(data)
		if len(text) > 1<<16 {
			return
		}
		loc := streamCount(t, text, 1024, 1024)
		m, h, l := reference(text)
		if loc.Matches != m || loc.Hits != h || loc.Items != l {
			t.Fatalf("chunked: %d matches, %d hits, %d lines; whole lines: %d, %d, %d", loc.Matches, loc.Hits, loc.Items, m, h, l)
		}
		for _, s := range loc.Samples {
			if pan.Contains(s.Masked) {
				t.Fatalf("sample %q is a card number", s.Masked)
			}
		}
	})
}

func TestBar(t *testing.T) {
	var b bytes.Buffer
	bar := &Bar{W: &b, Width: 10}
	bar.Begin("files", 2000, "bytes")
	bar.Item("app.log")
	bar.Advance(1000)
	bar.End()
	out := b.String()
	for _, want := range []string{"files", "[##########]", "100%", "2,000/2,000 bytes", "\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output %q lacks %q", out, want)
		}
	}
	if !strings.Contains(out, "[----------]   0%") {
		t.Errorf("bar output %q does not start at 0%%", out)
	}
}

// TestGeneratedValuesPass: a stored value that is wholly a UUID or a long lower-case hex digest
// is not reported, even when its digit groups read as a card number; the same digits typed in
// any other form are.
func TestGeneratedValuesPass(t *testing.T) {
	cases := []struct {
		value string
		hit   bool
	}{
		{"41111111-1111-1111-abcd-0123456789ab", false},
		{"ab4111111111111111cd0123456789abcdef0123456789abcdef0123456789ab", false},
		{"0123456789abcdef4111111111111111", false},
		{"4111111111111111", true},
		{"41111111-1111-1111-ABCD-0123456789AB", true},
		{"card 41111111-1111-1111-abcd-0123456789ab", true},
		{"4111 1111 1111 1111 is mine", true},
		{"0123456789abcdef411111111111111", false}, // 31 hex digits: too short to pass, no card number
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			var loc Location
			c := (&Scanner{}).counter(&loc)
			c.value([]byte(tc.value), func() string { return "row 1" })
			if got := loc.Hits > 0; got != tc.hit {
				t.Errorf("hit = %v, want %v", got, tc.hit)
			}
		})
	}
}

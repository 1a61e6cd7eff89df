package pan

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// maskLines is the specification of RedactStream: Mask applied to every
// line (terminator included) on its own.
func maskLines(m *Masker, in string) string {
	var b strings.Builder
	for line := range strings.SplitAfterSeq(in, "\n") {
		b.WriteString(m.MaskString(line))
	}
	return b.String()
}

func redact(t *testing.T, in string, o StreamOptions) string {
	t.Helper()
	var out bytes.Buffer
	if err := RedactStream(strings.NewReader(in), &out, o); err != nil {
		t.Fatalf("RedactStream: %v", err)
	}
	return out.String()
}

func TestRedactStreamLines(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"no card", "hello\nworld\n", "hello\nworld\n"},
		{"crlf kept", "card 4111111111111111\r\nnext\r\n", "card 411111••••••1111\r\nnext\r\n"},
		{"no final newline", "a\n4111 1111 1111 1111", "a\n4111 11•• •••• 1111"},
		{"binary kept", "\x00\xff\xfe\x80\n\x01 4111111111111111 \xc3\n", "\x00\xff\xfe\x80\n\x01 411111••••••1111 \xc3\n"},
		{"context stays on its line", "4111111111111111\ncvv 123\n", "411111••••••1111\ncvv 123\n"},
		{"card across lines is not joined", "4111 1111\n1111 1111\n", "4111 1111\n1111 1111\n"},
		{"blank lines", "\n\n\n", "\n\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(t, tt.in, StreamOptions{}); got != tt.want {
				t.Errorf("RedactStream(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// giantLine builds a line of about n bytes with card numbers, near misses
// and multi-byte text at pseudo-random places.
func giantLine(rng *rand.Rand, n int) string {
	pieces := []string{
		"4111 1111 1111 1111", "４１１１１１１１１１１１１１１１", "5555-5555-5555-4444 exp 12/26 cvv 123",
		"378282246310005", "12345678901234567890123", "4111 1111 1111 1112", "héllo wörld ", "日本語のテキスト",
		"\u200b", " ", "-", "7", "+49 1512 3456789", "4\u200b1\u200b1\u200b1 1111 1111 1111", "\xff",
	}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

func TestRedactStreamGiantLines(t *testing.T) {
	m := newMasker(t, Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, chunk := range []int{MinChunkSize, 3000, DefaultChunkSize} {
		in := giantLine(rng, 300_000) + "\n" + giantLine(rng, 50_000)
		want := maskLines(m, in)
		if want == in {
			t.Fatalf("test input holds no card number")
		}
		got := redact(t, in, StreamOptions{Masker: m, ChunkSize: chunk})
		if got != want {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("chunk %d: output differs from line-by-line Mask at byte %d: got %q, want %q",
				chunk, i, got[max(0, i-40):min(len(got), i+40)], want[max(0, i-40):min(len(want), i+40)])
		}
	}
}

func TestRedactStreamCardAtEveryChunkBoundary(t *testing.T) {
	m := newMasker(t, Options{})
	const card = "4111 1111 1111 1111 exp 12/26 cvv 123"
	const chunk = MinChunkSize
	for off := chunk + streamOverlap - 60; off < chunk+streamOverlap+60; off++ {
		in := strings.Repeat("a", off) + card + strings.Repeat("b", 3*streamOverlap) + card + "\n"
		got := redact(t, in, StreamOptions{Masker: m, ChunkSize: chunk})
		if want := maskLines(m, in); got != want {
			t.Fatalf("offset %d: stream output differs from Mask", off)
		}
	}
}

func TestRedactStreamSmallReads(t *testing.T) {
	m := newMasker(t, Options{})
	in := "one 4111111111111111\ntwo ５５５５５５５５５５５５４４４４\n" + giantLine(rand.New(rand.NewPCG(3, 4)), 40_000)
	var out bytes.Buffer
	if err := RedactStream(iotest.OneByteReader(strings.NewReader(in)), &out, StreamOptions{Masker: m, ChunkSize: MinChunkSize}); err != nil {
		t.Fatalf("RedactStream: %v", err)
	}
	if got, want := out.String(), maskLines(m, in); got != want {
		t.Errorf("one-byte reads: output differs from line-by-line Mask")
	}
}

// errWriter fails every write.
type errWriter struct{}

var errDiskFull = errors.New("disk full")

func (errWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestRedactStreamErrors(t *testing.T) {
	errRead := errors.New("broken pipe")
	if err := RedactStream(iotest.ErrReader(errRead), io.Discard, StreamOptions{}); !errors.Is(err, errRead) {
		t.Errorf("read error = %v, want wrapped %v", err, errRead)
	}
	if err := RedactStream(strings.NewReader("x\n"), errWriter{}, StreamOptions{}); !errors.Is(err, errDiskFull) {
		t.Errorf("write error = %v, want wrapped %v", err, errDiskFull)
	}
	if err := RedactStream(strings.NewReader("x"), io.Discard, StreamOptions{ChunkSize: 10}); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("small chunk error = %v, want ErrInvalidOption", err)
	}
}

// heapWatcher discards what it is given and samples the live heap.
type heapWatcher struct {
	n, writes int
	peak      uint64
}

func (h *heapWatcher) Write(p []byte) (int, error) {
	h.n += len(p)
	if h.writes++; h.writes%64 == 0 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.peak = max(h.peak, ms.HeapAlloc)
	}
	return len(p), nil
}

// repeatReader yields a pattern until n bytes were read, without a newline.
type repeatReader struct {
	pattern string
	n, off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:min(len(p), k+r.n)], r.pattern[r.off:])
		r.off = (r.off + c) % len(r.pattern)
		k += c
		r.n -= c
	}
	return k, nil
}

func TestRedactStreamBoundedMemory(t *testing.T) {
	// 32 MiB without a newline must stream through in bounded memory.
	const total = 32 << 20
	src := &repeatReader{pattern: "card 4111 1111 1111 1111 and \x80\x80\x80 binary ", n: total}
	dst := &heapWatcher{}
	if err := RedactStream(src, dst, StreamOptions{}); err != nil {
		t.Fatalf("RedactStream: %v", err)
	}
	if dst.n < total {
		t.Errorf("wrote %d bytes, want at least %d", dst.n, total)
	}
	if dst.peak == 0 || dst.peak > 8<<20 {
		t.Errorf("live heap peaked at %d bytes while streaming %d, want under 8 MiB", dst.peak, total)
	}
}

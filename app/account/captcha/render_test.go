package captcha

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image/png"
	"io"
	"sync"
	"testing"
)

func TestWritePNG(t *testing.T) {
	c := Challenge{ID: "x", Answer: "305718"}
	for i := range 20 { // the distortion is random; draw it a few times
		var buf bytes.Buffer
		if err := WritePNG(&buf, c); err != nil {
			t.Fatalf("WritePNG #%d: %v", i, err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatalf("PNG #%d does not decode: %v", i, err)
		}
		b := img.Bounds()
		if b.Dx() != ImageWidth || b.Dy() != ImageHeight {
			t.Fatalf("size: got %dx%d, want %dx%d", b.Dx(), b.Dy(), ImageWidth, ImageHeight)
		}
		colours := map[[4]uint32]bool{}
		for y := b.Min.Y; y < b.Max.Y; y += 2 {
			for x := b.Min.X; x < b.Max.X; x += 2 {
				r, g, bl, a := img.At(x, y).RGBA()
				colours[[4]uint32{r, g, bl, a}] = true
			}
		}
		if len(colours) < 2 {
			t.Fatalf("PNG #%d is blank", i)
		}
	}
}

func TestWriteWAV(t *testing.T) {
	c := Challenge{ID: "x", Answer: "061942"}
	for _, lang := range append(AudioLanguages(), "fr", "") {
		t.Run("lang="+lang, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteWAV(&buf, c, lang); err != nil {
				t.Fatalf("WriteWAV: %v", err)
			}
			checkWAV(t, buf.Bytes())
		})
	}
}

// checkWAV validates a RIFF/WAVE file with one PCM fmt chunk and one data
// chunk.
func checkWAV(t *testing.T, b []byte) {
	t.Helper()
	if len(b) < 44 {
		t.Fatalf("WAV of %d bytes: shorter than a header", len(b))
	}
	le := binary.LittleEndian
	checks := []struct {
		name      string
		got, want any
	}{
		{"RIFF tag", string(b[0:4]), "RIFF"},
		{"RIFF size", le.Uint32(b[4:8]), uint32(len(b) - 8)},
		{"WAVE tag", string(b[8:12]), "WAVE"},
		{"fmt tag", string(b[12:16]), "fmt "},
		{"fmt size", le.Uint32(b[16:20]), uint32(16)},
		{"format (PCM)", le.Uint16(b[20:22]), uint16(1)},
		{"channels", le.Uint16(b[22:24]), uint16(1)},
		{"sample rate", le.Uint32(b[24:28]), uint32(8000)},
		{"byte rate", le.Uint32(b[28:32]), uint32(8000)},
		{"block align", le.Uint16(b[32:34]), uint16(1)},
		{"bits per sample", le.Uint16(b[34:36]), uint16(8)},
		{"data tag", string(b[36:40]), "data"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	data := int(le.Uint32(b[40:44]))
	if rest := len(b) - 44; data != rest && data+1 != rest {
		t.Errorf("data size: got %d, want %d (or one less with a pad byte)", data, rest)
	}
	if secs := float64(data) / 8000; secs < 3 || secs > 30 {
		t.Errorf("duration: got %.1f s, want 3–30 s for %d digits", secs, AnswerLen)
	}
}

// TestRenderConcurrently draws from many goroutines at once, as parallel
// requests do; run with -race it checks the renderer shares no state.
func TestRenderConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		c := Challenge{Answer: fmt.Sprintf("%06d", i*123457%1_000_000)}
		wg.Go(func() { errs <- WritePNG(io.Discard, c) })
		wg.Go(func() { errs <- WriteWAV(io.Discard, c, AudioLanguages()[i%len(AudioLanguages())]) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestRenderRejectsBadAnswer(t *testing.T) {
	for _, a := range []string{"", "12345", "1234567", "12a456", "１２３４５６"} {
		var buf bytes.Buffer
		if err := WritePNG(&buf, Challenge{Answer: a}); err == nil {
			t.Errorf("WritePNG(%q): got nil error, want one", a)
		}
		if err := WriteWAV(&buf, Challenge{Answer: a}, "en"); err == nil {
			t.Errorf("WriteWAV(%q): got nil error, want one", a)
		}
		if buf.Len() != 0 {
			t.Errorf("rendering %q wrote %d bytes before failing", a, buf.Len())
		}
	}
}

func TestAudioLanguage(t *testing.T) {
	tests := []struct{ tag, want string }{
		{"en", "en"}, {"de", "de"}, {"de-CH", "de"}, {"ZH_Hans", "zh"}, {"ja-JP", "ja"},
		{"ru", "ru"}, {"fr", "en"}, {"", "en"}, {" en-GB ", "en"}, {"english", "en"},
	}
	for _, tt := range tests {
		if got := AudioLanguage(tt.tag); got != tt.want {
			t.Errorf("AudioLanguage(%q): got %q, want %q", tt.tag, got, tt.want)
		}
	}
}

func BenchmarkWritePNG(b *testing.B) {
	c := Challenge{Answer: "305718"}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := WritePNG(&buf, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes")
}

func BenchmarkWriteWAV(b *testing.B) {
	c := Challenge{Answer: "305718"}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := WriteWAV(&buf, c, "en"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes")
}

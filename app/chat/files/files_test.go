package files

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

func pngWithText(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// Insert a tEXt chunk carrying "metadata" right after IHDR (8-byte signature + 25-byte IHDR).
	data := []byte("tEXtGPS\x0052.5,13.4")
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)-4))
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(data))
	out := append([]byte{}, b[:33]...)
	out = append(out, chunk...)
	return append(out, b[33:]...)
}

func jpegWithExif(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	exif := []byte{0xFF, 0xE1, 0x00, 0x10, 'E', 'x', 'i', 'f', 0, 0, 'G', 'P', 'S', '5', '2', '.', '5', '!'}
	out := append([]byte{}, b[:2]...)
	out = append(out, exif...)
	return append(out, b[2:]...)
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
		err  error
	}{
		{"png", []byte("\x89PNG\r\n\x1a\nxxxx"), PNG, nil},
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0}, JPEG, nil},
		{"gif", []byte("GIF89a...."), GIF, nil},
		{"pdf", []byte("%PDF-1.7\n"), PDF, nil},
		{"text", []byte("order 12345\r\nthanks\n"), Text, nil},
		{"html refused", []byte("  <html><script>x</script>"), "", ErrType},
		{"svg refused", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), "", ErrType},
		{"exe refused", []byte("MZ\x90\x00\x03"), "", ErrType},
		{"zip refused", []byte("PK\x03\x04"), "", ErrType},
		{"binary refused", []byte{0x00, 0x01, 0x02}, "", ErrType},
		{"empty", nil, "", ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.in)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("Sniff = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestCheckStripsMetadata(t *testing.T) {
	for _, tc := range []struct {
		name, file, typ string
		data            []byte
	}{
		{"png", "photo.png", PNG, pngWithText(t)},
		{"jpeg", "photo.jpeg", JPEG, jpegWithExif(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(tc.data, []byte("52.5")) {
				t.Fatal("test image lacks its metadata")
			}
			got, err := Check(tc.file, tc.data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != tc.typ || got.Name != tc.file {
				t.Errorf("Check = %s %q, want %s %q", got.Type, got.Name, tc.typ, tc.file)
			}
			if bytes.Contains(got.Data, []byte("52.5")) || bytes.Contains(got.Data, []byte("Exif")) {
				t.Error("re-encoded image still carries the metadata")
			}
			if _, _, err := image.Decode(bytes.NewReader(got.Data)); err != nil {
				t.Errorf("re-encoded image does not decode: %v", err)
			}
		})
	}
	if _, err := Check("x.png", []byte("\x89PNG\r\n\x1a\ngarbage"), nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("broken PNG: error = %v, want ErrInvalid", err)
	}
}

func TestCleanName(t *testing.T) {
	mask := func(s string) string {
		return strings.ReplaceAll(s, "4111111111111111", "411111••••••1111")
	}
	tests := []struct{ in, typ, want string }{
		{"report.pdf", PDF, "report.pdf"},
		{"../../etc/passwd", Text, "passwd.txt"},
		{`C:\Users\bob\scan.JPG`, JPEG, "scan.JPG"},
		{"invoice\u202Efdp.exe", PDF, "invoicefdp.pdf"},
		{"evil.html", Text, "evil.txt"},
		{"card 4111111111111111.png", PNG, "card 411111••••••1111.png"},
		{"", PNG, "file.png"},
		{"...", GIF, "file.gif"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := CleanName(tt.in, tt.typ, mask); got != tt.want {
				t.Errorf("CleanName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("a.png", []byte("\x89PNG\r\n\x1a\n"))
	f.Add("a.gif", []byte("GIF89a\x01\x00\x01\x00"))
	f.Add("a.txt", []byte("hello"))
	f.Add("a.jpg", []byte{0xFF, 0xD8, 0xFF, 0xDB})
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		got, err := Check(name, data, nil)
		if err != nil {
			return
		}
		if typ, err := Sniff(got.Data); err != nil || typ != got.Type {
			t.Fatalf("checked data sniffs as %q, %v; want %q", typ, err, got.Type)
		}
		if strings.ContainsAny(got.Name, "/\\\x00\n") || got.Name == "" {
			t.Fatalf("unsafe name %q", got.Name)
		}
	})
}

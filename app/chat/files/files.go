// Package files decides which files visitors and agents may exchange in a chat: the type is read
// from the content's magic bytes (never from the name or the declared type) against an
// allowlist, images are decoded and re-encoded so their metadata (EXIF, GPS, comments, colour
// profiles, trailing data) is dropped, and file names are cleaned to one safe line whose
// extension matches the content.
package files

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/app/sanitize"
)

// Errors returned by Check.
var (
	// ErrType means the content is not of an allowed type.
	ErrType = errors.New("files: type not allowed")
	// ErrInvalid means the content claims an allowed type but does not decode as one (or is too
	// large in pixels).
	ErrInvalid = errors.New("files: content is invalid")
	// ErrEmpty means the file has no content.
	ErrEmpty = errors.New("files: empty file")
)

// Allowed content types.
const (
	PNG  = "image/png"
	JPEG = "image/jpeg"
	GIF  = "image/gif"
	PDF  = "application/pdf"
	Text = "text/plain"
)

// Types lists the allowed content types.
func Types() []string { return []string{PNG, JPEG, GIF, PDF, Text} }

// MaxPixels bounds a decoded image (width × height) so a small file cannot expand into gigabytes:
// 16 megapixels decode into at most 64 MiB.
const MaxPixels = 16_000_000

var extensions = map[string]string{PNG: ".png", JPEG: ".jpg", GIF: ".gif", PDF: ".pdf", Text: ".txt"}

// Sniff returns the allowed type the content's magic bytes name, or ErrType.
func Sniff(b []byte) (string, error) {
	switch {
	case len(b) == 0:
		return "", ErrEmpty
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, nil
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG, nil
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return GIF, nil
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return PDF, nil
	case plainText(b):
		return Text, nil
	}
	return "", ErrType
}

// plainText accepts UTF-8 text without control characters other than tab, CR and LF, and
// without a leading "<" (markup a browser might sniff as HTML despite nosniff).
func plainText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	t := bytes.TrimLeft(b, " \t\r\n\uFEFF")
	if len(t) > 0 && t[0] == '<' {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\r' && c != '\n' || c == 0x7f {
			return false
		}
	}
	return true
}

// Checked is a file that passed Check.
type Checked struct {
	Type string
	Data []byte
	Name string
}

// Check sniffs data, re-encodes images without their metadata, and cleans name. maskName masks
// card numbers in the name (nil leaves it).
func Check(name string, data []byte, maskName func(string) string) (Checked, error) {
	typ, err := Sniff(data)
	if err != nil {
		return Checked{}, err
	}
	out := data
	switch typ {
	case PNG, JPEG, GIF:
		if out, err = reencode(typ, data); err != nil {
			return Checked{}, err
		}
	}
	return Checked{Type: typ, Data: out, Name: CleanName(name, typ, maskName)}, nil
}

func reencode(typ string, data []byte) ([]byte, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > 20000 || cfg.Height > 20000 || cfg.Width*cfg.Height > MaxPixels {
		return nil, fmt.Errorf("%w: image is %dx%d pixels", ErrInvalid, cfg.Width, cfg.Height)
	}
	var buf bytes.Buffer
	switch typ {
	case PNG:
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
		if err != nil {
			return nil, err
		}
	case JPEG:
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			return nil, err
		}
	case GIF:
		// Only the first frame is kept: decoding every frame of an animation could expand a small
		// file into gigabytes.
		img, err := gif.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if err := gif.Encode(&buf, img, nil); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// CleanName returns a safe single-line file name: no path, no control or bidi characters, card
// numbers masked, at most 100 characters, with the extension of typ.
func CleanName(name, typ string, maskName func(string) string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base("/" + name)
	name = sanitize.Truncate(name, sanitize.Limits{MaxRunes: 90})
	name = strings.Trim(name, ". ")
	if maskName != nil {
		name = maskName(name)
	}
	ext := extensions[typ]
	base := strings.TrimSuffix(name, path.Ext(name))
	if strings.EqualFold(path.Ext(name), ext) || (typ == JPEG && strings.EqualFold(path.Ext(name), ".jpeg")) {
		base, ext = name[:len(name)-len(path.Ext(name))], path.Ext(name)
	}
	if base == "" || base == "/" {
		base = "file"
	}
	return base + ext
}

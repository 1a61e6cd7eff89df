package scan

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/parleyhq/parley/compliance/pan"
)

// Defaults of a Scanner.
const (
	// DefaultMaxSamples is how many masked samples a location keeps.
	DefaultMaxSamples = 5
	// lineChunk bounds the bytes of a long line scanned at once; overlap is the context kept on
	// either side (a card number spans far less).
	lineChunk = 64 << 10
	overlap   = 4 << 10
)

// Scanner finds card numbers. The zero value is usable: samples masked to the last four digits,
// five per location, no progress shown.
type Scanner struct {
	// Masker masks samples; nil masks to the last four digits.
	Masker *pan.Masker
	// MaxSamples bounds the samples per location; zero means DefaultMaxSamples, negative none.
	MaxSamples int
	// Progress is told how far the scan got; nil shows nothing.
	Progress Progress
}

func (s *Scanner) masker() *pan.Masker {
	if s.Masker != nil {
		return s.Masker
	}
	m, _ := pan.NewMasker(pan.Options{Mode: pan.ModeLast4, ContextRunes: -1}) // constant, valid options
	return m
}

func (s *Scanner) maxSamples() int {
	switch {
	case s.MaxSamples == 0:
		return DefaultMaxSamples
	case s.MaxSamples < 0:
		return 0
	}
	return s.MaxSamples
}

func (s *Scanner) progress() Progress {
	if s.Progress != nil {
		return s.Progress
	}
	return noProgress{}
}

// counter accumulates a location's findings.
type counter struct {
	loc     *Location
	masker  *pan.Masker
	samples int
	matches []pan.Match
	// chunk and overlap size the pieces of long lines (lineChunk and overlap; tests use less).
	chunk, overlap int
}

func (s *Scanner) counter(loc *Location) *counter {
	return &counter{loc: loc, masker: s.masker(), samples: s.maxSamples(), chunk: lineChunk, overlap: overlap}
}

// text counts the card numbers of text[from:to] (judged on the whole of text) found in item ref.
func (c *counter) text(text string, from, to int, ref func() string) int {
	c.matches = pan.AppendMatches(c.matches[:0], text)
	n := 0
	for _, m := range c.matches {
		if m.Start < from || m.Start >= to {
			continue
		}
		n++
		if len(c.loc.Samples) < c.samples {
			c.loc.Samples = append(c.loc.Samples, Sample{Masked: c.masker.MaskString(text[m.Start:m.End]), Brand: m.Brand.String(), Ref: ref()})
		}
	}
	c.loc.Matches += int64(n)
	return n
}

// value scans one whole value (a row's column).
func (c *counter) value(v []byte, ref func() string) {
	c.loc.Items++
	c.loc.Bytes += int64(len(v))
	if !mayHoldDigit(v) || generatedValue(v) {
		return
	}
	if c.text(string(v), 0, len(v), ref) > 0 {
		c.loc.Hits++
	}
}

// generatedValue reports whether a stored value is, as a whole, in the form of an id or digest
// Parley generates: a canonical UUID (lower-case hex, 8-4-4-4-12) or a lower-case hexadecimal
// string of 32 digits or more (request ids, token and key hashes). Their random digit groups read
// as a card number by chance (about one UUID in 20,000 and one 64-digit hash in 2,500), and no
// typed value has that form, so the scan passes them instead of reporting noise.
func generatedValue(v []byte) bool {
	if len(v) == 36 && v[8] == '-' && v[13] == '-' && v[18] == '-' && v[23] == '-' {
		for i, c := range v {
			if i != 8 && i != 13 && i != 18 && i != 23 && !lowerHex(c) {
				return false
			}
		}
		return true
	}
	if len(v) < 32 {
		return false
	}
	for _, c := range v {
		if !lowerHex(c) {
			return false
		}
	}
	return true
}

func lowerHex(c byte) bool { return c-'0' <= 9 || c-'a' <= 5 }

// mayHoldDigit reports whether b has an ASCII digit or a non-ASCII byte (a digit of another
// script may start there).
func mayHoldDigit(b []byte) bool {
	for _, c := range b {
		if c-'0' <= 9 || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// stream scans r line by line in bounded memory: a line longer than lineChunk is scanned in
// chunks that overlap, each card number counted once, in the chunk where it starts.
func (c *counter) stream(ctx context.Context, r io.Reader, advance func(int64)) error {
	br := bufio.NewReaderSize(r, 32<<10)
	line := make([]byte, 0, c.chunk+2*c.overlap)
	done := 0
	lineNo := int64(1)
	hit := false
	ref := func() string { return "line " + strconv.FormatInt(lineNo, 10) }
	scan := func(to int) {
		if mayHoldDigit(line) && c.text(string(line), done, to, ref) > 0 {
			hit = true
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		piece, err := br.ReadSlice('\n')
		line = append(line, piece...)
		c.loc.Bytes += int64(len(piece))
		advance(int64(len(piece)))
		switch {
		case err == nil || errors.Is(err, io.EOF):
			if len(line) > 0 {
				scan(len(line))
				c.loc.Items++
				if hit {
					c.loc.Hits++
				}
			}
			if err != nil {
				return nil
			}
			line, done, hit = line[:0], 0, false
			lineNo++
		case errors.Is(err, bufio.ErrBufferFull):
			if len(line)-done < c.chunk+c.overlap {
				continue
			}
			cut := runeCut(line, len(line)-c.overlap)
			scan(cut)
			keep := max(0, cut-c.overlap)
			n := copy(line, line[keep:])
			line, done = line[:n], cut-keep
		default:
			return fmt.Errorf("read: %w", err)
		}
	}
}

// runeCut moves cut back to the start of the rune it falls into.
func runeCut(b []byte, cut int) int {
	for k := 1; k < utf8.UTFMax && cut-k >= 0; k++ {
		if q := cut - k; utf8.RuneStart(b[q]) {
			if _, w := utf8.DecodeRune(b[q:]); q+w > cut {
				return q
			}
			return cut
		}
	}
	return cut
}

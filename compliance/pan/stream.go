package pan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Stream sizes.
const (
	// DefaultChunkSize is how many bytes of a long line RedactStream
	// masks at once.
	DefaultChunkSize = 64 << 10
	// MinChunkSize is the smallest accepted StreamOptions.ChunkSize.
	MinChunkSize = 1 << 10
	// streamOverlap is the context kept on either side of a chunk of a long
	// line. Every masking decision depends only on text closer than this:
	// a card number spans at most 19 digits and 18 gaps of one separator
	// and 16 invisible characters (under 1 KiB), and its expiry date and
	// code lie within MaxContextRunes runes of it.
	streamOverlap = 8 << 10
	// readBufferSize is the size of RedactStream's read and write buffers.
	readBufferSize = 32 << 10
)

// StreamOptions configures RedactStream.
type StreamOptions struct {
	// Masker masks each line; nil means a Masker with zero Options.
	Masker *Masker
	// ChunkSize bounds the bytes of a long line masked at once; zero means
	// DefaultChunkSize.
	ChunkSize int
}

// RedactStream copies r to w, masking card numbers (and the expiry dates and
// codes next to them) line by line; nothing else changes: line endings,
// invalid UTF-8 and binary bytes are copied as they are, so input without
// card data comes out byte for byte identical. The output of each line is
// what Masker.Mask returns for it. A line longer than ChunkSize is processed
// in chunks that overlap enough for a card number across a chunk boundary
// to be found, so memory stays bounded whatever the input. Output is
// flushed whenever the input has no more buffered data, which suits
// following a growing log. Errors wrap the reader's or writer's error.
func RedactStream(r io.Reader, w io.Writer, o StreamOptions) error {
	m := o.Masker
	if m == nil {
		var err error
		if m, err = NewMasker(Options{}); err != nil {
			return err
		}
	}
	chunk := o.ChunkSize
	switch {
	case chunk == 0:
		chunk = DefaultChunkSize
	case chunk < MinChunkSize:
		return fmt.Errorf("chunk size %d below %d: %w", chunk, MinChunkSize, ErrInvalidOption)
	}
	br := bufio.NewReaderSize(r, readBufferSize)
	bw := bufio.NewWriterSize(w, readBufferSize)
	line := make([]byte, 0, streamOverlap+chunk+readBufferSize)
	done := 0 // bytes at the start of line already written (left context)
	for {
		piece, rerr := br.ReadSlice('\n')
		line = append(line, piece...)
		switch {
		case rerr == nil || errors.Is(rerr, io.EOF):
			if err := writeMasked(bw, m, line, done, len(line)); err != nil {
				return err
			}
			line, done = line[:0], 0
			if rerr != nil {
				return flush(bw)
			}
			if br.Buffered() == 0 {
				if err := flush(bw); err != nil {
					return err
				}
			}
		case errors.Is(rerr, bufio.ErrBufferFull):
			if len(line)-done < chunk+streamOverlap {
				continue
			}
			cut := runeCut(line, len(line)-streamOverlap)
			if err := writeMasked(bw, m, line, done, cut); err != nil {
				return err
			}
			keep := max(0, cut-streamOverlap)
			n := copy(line, line[keep:])
			line, done = line[:n], cut-keep
		default:
			if err := flush(bw); err != nil {
				return err
			}
			return fmt.Errorf("pan: read: %w", rerr)
		}
	}
}

// flush flushes bw, wrapping its error.
func flush(bw *bufio.Writer) error {
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("pan: write: %w", err)
	}
	return nil
}

// writeMasked writes buf[from:to] masked, judging card numbers on the whole
// of buf.
func writeMasked(bw *bufio.Writer, m *Masker, buf []byte, from, to int) error {
	if from == to {
		return nil
	}
	if !mayHoldDigit(buf) {
		if _, err := bw.Write(buf[from:to]); err != nil {
			return fmt.Errorf("pan: write: %w", err)
		}
		return nil
	}
	s := string(buf)
	var hide []int
	if res, ok := m.analyze(s); ok {
		hide = m.hidden(s, m.appendFragments(nil, res))
	}
	last := from
	for _, p := range hide {
		if p < from || p >= to {
			continue
		}
		_, w := decodeRune(s, p)
		if _, err := bw.WriteString(s[last:p]); err != nil {
			return fmt.Errorf("pan: write: %w", err)
		}
		if _, err := bw.WriteString(m.mask); err != nil {
			return fmt.Errorf("pan: write: %w", err)
		}
		last = p + w
	}
	if _, err := bw.WriteString(s[last:to]); err != nil {
		return fmt.Errorf("pan: write: %w", err)
	}
	return nil
}

// mayHoldDigit reports whether b contains an ASCII digit or any non-ASCII
// byte (which may start a digit of another script).
func mayHoldDigit(b []byte) bool {
	for _, c := range b {
		if c-'0' <= 9 || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// runeCut moves cut back to the start of the rune it falls into, if any, so
// that no rune is split between two chunks.
func runeCut(b []byte, cut int) int {
	for k := 1; k < utf8.UTFMax && cut-k >= 0; k++ {
		q := cut - k
		if utf8.RuneStart(b[q]) {
			if _, w := utf8.DecodeRune(b[q:]); q+w > cut {
				return q
			}
			return cut
		}
	}
	return cut
}

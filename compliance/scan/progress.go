package scan

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress is told how far a scan got: Begin a phase with its total (rows or bytes), Advance by
// what was read, Item names the location being read, End the phase.
type Progress interface {
	Begin(phase string, total int64, unit string)
	Item(name string)
	Advance(n int64)
	End()
}

type noProgress struct{}

func (noProgress) Begin(string, int64, string) {}
func (noProgress) Item(string)                 {}
func (noProgress) Advance(int64)               {}
func (noProgress) End()                        {}

// Bar draws a one-line progress bar, redrawn in place at most every Every (default 100 ms):
//
//	database [##########----------]  52%  12,345/23,456 rows  conversation_events.body
type Bar struct {
	W     io.Writer
	Width int
	Now   func() time.Time
	Every time.Duration

	mu                sync.Mutex
	phase, unit, item string
	total, done       int64
	last              time.Time
	drawn             bool
}

var _ Progress = (*Bar)(nil)

// Begin implements Progress.
func (b *Bar) Begin(phase string, total int64, unit string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.phase, b.total, b.unit, b.done, b.item = phase, total, unit, 0, ""
	b.drawLocked(true)
}

// Item implements Progress.
func (b *Bar) Item(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.item = name
	b.drawLocked(false)
}

// Advance implements Progress.
func (b *Bar) Advance(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	b.drawLocked(false)
}

// End implements Progress: the bar is drawn complete and the line ended.
func (b *Bar) End() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done, b.item = max(b.done, b.total), ""
	b.drawLocked(true)
	if b.drawn {
		_, _ = io.WriteString(b.W, "\n")
		b.drawn = false
	}
}

func (b *Bar) drawLocked(force bool) {
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	every := b.Every
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	t := now()
	if !force && t.Sub(b.last) < every {
		return
	}
	b.last = t
	width := b.Width
	if width <= 0 {
		width = 30
	}
	frac := 1.0
	if b.total > 0 {
		frac = min(1, float64(b.done)/float64(b.total))
	}
	full := int(frac * float64(width))
	item := b.item
	if len(item) > 48 {
		item = "…" + item[len(item)-47:]
	}
	_, _ = fmt.Fprintf(b.W, "\r\x1b[K%-8s [%s%s] %3d%%  %s/%s %s  %s", b.phase, strings.Repeat("#", full), strings.Repeat("-", width-full),
		int(frac*100), thousands(b.done), thousands(b.total), b.unit, item)
	b.drawn = true
}

// thousands formats n with thousands separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

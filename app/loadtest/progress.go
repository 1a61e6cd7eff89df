package loadtest

import (
	"fmt"
	"strings"
	"time"
)

// progressf writes a progress line (nothing without Config.Progress).
func (r *run) progressf(format string, args ...any) {
	if r.cfg.Progress == nil {
		return
	}
	if r.cfg.TTY {
		fmt.Fprintf(r.cfg.Progress, "\r\033[K"+format, args...)
		return
	}
	fmt.Fprintf(r.cfg.Progress, format+"\n", args...)
}

// showProgress reports the message phase every half second on a terminal (a bar), every five
// seconds otherwise, until the returned stop is called.
func (r *run) showProgress(total int64) (stop func()) {
	if r.cfg.Progress == nil || total == 0 {
		return func() {}
	}
	every := 5 * time.Second
	if r.cfg.TTY {
		every = 500 * time.Millisecond
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				r.progressLine(total)
				if r.cfg.TTY {
					fmt.Fprintln(r.cfg.Progress)
				}
				return
			case <-t.C:
				r.progressLine(total)
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (r *run) progressLine(total int64) {
	settled := r.done.Load()
	el := time.Since(r.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(r.acked.Load()) / el
	}
	frac := float64(settled) / float64(total)
	const width = 30
	bar := strings.Repeat("█", int(frac*width)) + strings.Repeat("░", width-int(frac*width))
	errs := 0
	for _, n := range r.errs.snapshot() {
		errs += n
	}
	r.progressf("%s %3.0f%%  %d/%d acked  %d delivered  %.0f msg/s  %d errors", bar, 100*frac,
		r.acked.Load(), total, r.delivered.Load(), rate, errs)
}

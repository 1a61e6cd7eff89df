// Package storm measures what a sign-in storm does to the rest of a Parley
// node: it keeps a passhash.Hasher saturated with wrong-password checks while
// the caller times a CPU-light operation, such as the chat message path.
//
// It is a measuring instrument for benchmarks and load tests
// (docs/BENCHMARKS.md, "chat-path latency during a sign-in storm"); the
// server never imports it.
package storm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/app/account/passhash"
)

// Config describes a storm.
type Config struct {
	// Hasher is the pool under attack.
	Hasher *passhash.Hasher
	// Attackers is the number of goroutines sending wrong passwords. Zero
	// means twice the pool's capacity (MaxConcurrent + MaxWaiting), so every
	// slot is busy, the queue is full, and the surplus is refused with
	// passhash.ErrBusy.
	Attackers int
	// BusyBackoff is how long an attacker pauses after passhash.ErrBusy, as a
	// client does after a 503; zero means one millisecond.
	BusyBackoff time.Duration
}

// Storm is a running storm. Stop it with Stop.
type Storm struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	start    time.Time
	verifies atomic.Int64
	busy     atomic.Int64
	failures atomic.Int64
}

// Totals sums up a storm after Stop.
type Totals struct {
	// Elapsed is the storm's duration.
	Elapsed time.Duration
	// Verifies is the number of password checks the pool completed.
	Verifies int64
	// Busy is the number of checks refused with passhash.ErrBusy.
	Busy int64
}

// VerifiesPerSecond is the pool's throughput during the storm.
func (t Totals) VerifiesPerSecond() float64 { return perSecond(t.Verifies, t.Elapsed) }

// BusyPerSecond is the rate of refusals during the storm.
func (t Totals) BusyPerSecond() float64 { return perSecond(t.Busy, t.Elapsed) }

// Start hashes a random password with cfg.Hasher and starts the attackers,
// which verify wrong passwords against it until Stop.
func Start(cfg Config) (*Storm, error) {
	if cfg.Hasher == nil {
		return nil, errors.New("storm: no Hasher")
	}
	pw := make([]byte, 24)
	if _, err := rand.Read(pw); err != nil {
		return nil, fmt.Errorf("storm: %w", err)
	}
	enc, err := cfg.Hasher.Hash(context.Background(), pw)
	if err != nil {
		return nil, fmt.Errorf("storm: hashing the target password: %w", err)
	}
	attackers := cfg.Attackers
	if attackers <= 0 {
		st := cfg.Hasher.Stats()
		attackers = 2 * (st.MaxConcurrent + st.MaxWaiting)
	}
	backoff := cfg.BusyBackoff
	if backoff <= 0 {
		backoff = time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Storm{cancel: cancel, start: time.Now()}
	for i := range attackers {
		guess := []byte(fmt.Sprintf("wrong-guess-%d", i))
		s.wg.Go(func() { s.attack(ctx, cfg.Hasher, enc, guess, backoff) })
	}
	return s, nil
}

func (s *Storm) attack(ctx context.Context, h *passhash.Hasher, enc string, guess []byte, backoff time.Duration) {
	for ctx.Err() == nil {
		_, _, err := h.Verify(ctx, enc, guess)
		switch {
		case err == nil:
			s.verifies.Add(1)
		case errors.Is(err, passhash.ErrBusy):
			s.busy.Add(1)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
		case ctx.Err() != nil:
		default:
			s.failures.Add(1)
		}
	}
}

// Stop ends the storm, waits for the attackers to leave the pool and
// returns the totals. It reports an error if any check failed for a reason
// other than the pool being busy or the storm ending.
func (s *Storm) Stop() (Totals, error) {
	s.cancel()
	s.wg.Wait()
	t := Totals{Elapsed: time.Since(s.start), Verifies: s.verifies.Load(), Busy: s.busy.Load()}
	if n := s.failures.Load(); n > 0 {
		return t, fmt.Errorf("storm: %d password checks failed", n)
	}
	return t, nil
}

// Figures describe the latency of one operation measured by Measure.
type Figures struct {
	// Calls is the number of calls made.
	Calls int
	// Elapsed is the total time taken.
	Elapsed time.Duration
	// P50, P99, P999 and Max are latencies of single calls, over the last
	// maxSamples calls at most.
	P50, P99, P999, Max time.Duration
}

// PerSecond is the operation's throughput.
func (f Figures) PerSecond() float64 { return perSecond(int64(f.Calls), f.Elapsed) }

// String renders the figures for a benchmark log.
func (f Figures) String() string {
	return fmt.Sprintf("%d calls, %.0f/s, p50 %v, p99 %v, p99.9 %v, max %v", f.Calls, f.PerSecond(), f.P50, f.P99, f.P999, f.Max)
}

// maxSamples bounds the memory Measure uses for latencies.
const maxSamples = 1 << 20

// Measure calls op n times back to back and times each call. Preemption by
// hashing goroutines and garbage collection of hash buffers show up as
// latency of single calls, so compare P99 and Max with and without a storm.
func Measure(n int, op func()) Figures {
	samples := make([]time.Duration, min(n, maxSamples))
	start := time.Now()
	for i := range n {
		t0 := time.Now()
		op()
		samples[i%len(samples)] = time.Since(t0)
	}
	return summarize(samples, n, time.Since(start))
}

// MeasureFor is Measure for a duration instead of a call count: it calls op
// until d has passed or maxSamples calls were made.
func MeasureFor(d time.Duration, op func()) Figures {
	samples := make([]time.Duration, 0, 4096)
	start := time.Now()
	for time.Since(start) < d && len(samples) < maxSamples {
		t0 := time.Now()
		op()
		samples = append(samples, time.Since(t0))
	}
	return summarize(samples, len(samples), time.Since(start))
}

// MeasurePaced calls op n times at a steady pace, one call every interval,
// the way chat messages arrive, and measures each call from the moment it
// was due until op returns. Waiting for a CPU (the hashing goroutines hold
// them) and late timer wake-ups count as latency, and a late call does not
// delay the schedule of the next ones, so a stall is not hidden.
func MeasurePaced(n int, interval time.Duration, op func()) Figures {
	samples := make([]time.Duration, min(n, maxSamples))
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		op()
		samples[i%len(samples)] = time.Since(due)
	}
	return summarize(samples, n, time.Since(start))
}

// summarize sorts samples in place and reads the percentiles off them.
func summarize(samples []time.Duration, calls int, elapsed time.Duration) Figures {
	f := Figures{Calls: calls, Elapsed: elapsed}
	if len(samples) == 0 {
		return f
	}
	slices.Sort(samples)
	f.P50 = samples[len(samples)/2]
	f.P99 = samples[len(samples)*99/100]
	f.P999 = samples[len(samples)*999/1000]
	f.Max = samples[len(samples)-1]
	return f
}

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

package loadtest

import (
	"slices"
	"sync"
	"time"
)

// Percentiles summarise a set of latencies, in milliseconds.
type Percentiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// sample is one latency, at an offset from the start of the measured phase.
type sample struct {
	at, took time.Duration
}

// recorder keeps every latency of a run (a few million samples fit in memory).
type recorder struct {
	mu      sync.Mutex
	samples []sample
}

func (r *recorder) add(at, took time.Duration) {
	r.mu.Lock()
	r.samples = append(r.samples, sample{at: at, took: took})
	r.mu.Unlock()
}

func (r *recorder) snapshot() []sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.samples)
}

// summarize computes the percentiles of samples (nearest rank).
func summarize(samples []sample) Percentiles {
	if len(samples) == 0 {
		return Percentiles{}
	}
	d := make([]time.Duration, len(samples))
	for i, s := range samples {
		d[i] = s.took
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		i := int(q*float64(len(d))+0.999999) - 1
		i = min(max(i, 0), len(d)-1)
		return ms(d[i])
	}
	return Percentiles{Count: len(d), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: ms(d[len(d)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Point is one interval of the run's timeline: how many messages were acked in it and the
// latencies of those acked and delivered in it.
type Point struct {
	AtSeconds float64 `json:"at_s"`
	Acked     int     `json:"acked"`
	AckP50    float64 `json:"ack_p50_ms"`
	AckP99    float64 `json:"ack_p99_ms"`
	DelivP99  float64 `json:"delivery_p99_ms"`
}

// timeline groups the samples into intervals of step.
func timeline(acks, deliveries []sample, step time.Duration) []Point {
	var end time.Duration
	for _, s := range acks {
		end = max(end, s.at)
	}
	for _, s := range deliveries {
		end = max(end, s.at)
	}
	n := int(end/step) + 1
	ab := make([][]sample, n)
	db := make([][]sample, n)
	for _, s := range acks {
		ab[s.at/step] = append(ab[s.at/step], s)
	}
	for _, s := range deliveries {
		db[s.at/step] = append(db[s.at/step], s)
	}
	out := make([]Point, n)
	for i := range out {
		a, d := summarize(ab[i]), summarize(db[i])
		out[i] = Point{AtSeconds: (time.Duration(i) * step).Seconds(), Acked: a.Count, AckP50: a.P50, AckP99: a.P99, DelivP99: d.P99}
	}
	return out
}

// counts is a set of counters by name (error codes), safe for concurrent use.
type counts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counts) add(name string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[name]++
	c.mu.Unlock()
}

func (c *counts) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// Package limit holds the token buckets that throttle visitors: per visitor and per source address,
// on page views, connections, chat starts and messages. Memory is bounded: a limiter remembers at
// most a fixed number of keys, forgets keys whose bucket has refilled (they are indistinguishable
// from new ones), and beyond that evicts the least recently used.
package limit

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// Rate is a token bucket's shape: Burst tokens at most, refilled at PerSecond.
type Rate struct {
	Burst     float64
	PerSecond float64
}

// Every returns a rate of burst tokens refilled one per interval.
func Every(interval time.Duration, burst int) Rate {
	return Rate{Burst: float64(burst), PerSecond: float64(time.Second) / float64(interval)}
}

const shards = 16

// Limiter throttles by key. It is safe for concurrent use.
type Limiter struct {
	rate    Rate
	now     func() time.Time
	perShrd int
	seed    maphash.Seed
	shards  [shards]shard
}

type shard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	tick    uint64
}

type bucket struct {
	tokens float64
	last   time.Time
	// used orders buckets by their last use for eviction (the clock may stand still).
	used uint64
}

// New returns a limiter with rate r that remembers at most maxKeys keys; now is the clock.
func New(r Rate, maxKeys int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if maxKeys < shards {
		maxKeys = shards
	}
	l := &Limiter{rate: r, now: now, perShrd: maxKeys / shards, seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].buckets = make(map[string]*bucket)
	}
	return l
}

// Allow takes one token from key's bucket. When the bucket is empty it returns false and how long
// until a token is available.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	s := &l.shards[maphash.String(l.seed, key)%shards]
	now := l.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[key]
	if !ok {
		if len(s.buckets) >= l.perShrd {
			l.makeRoom(s, now)
		}
		b = &bucket{tokens: l.rate.Burst, last: now}
		s.buckets[key] = b
	} else {
		l.refill(b, now)
	}
	s.tick++
	b.used = s.tick
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	if l.rate.PerSecond <= 0 {
		return false, time.Hour
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / l.rate.PerSecond * float64(time.Second)))
	return false, wait
}

func (l *Limiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(l.rate.Burst, b.tokens+el.Seconds()*l.rate.PerSecond)
		b.last = now
	}
}

// makeRoom drops the shard's refilled buckets and, if that is not enough, the least recently
// used eighth.
func (l *Limiter) makeRoom(s *shard, now time.Time) {
	for k, b := range s.buckets {
		l.refill(b, now)
		if b.tokens >= l.rate.Burst {
			delete(s.buckets, k)
		}
	}
	if len(s.buckets) < l.perShrd {
		return
	}
	// Drop the least recently used eighth: one scan per dropped key over a bounded shard, which
	// happens only when more distinct keys are active than the limiter may remember.
	for range max(1, len(s.buckets)/8) {
		var oldestKey string
		oldest := uint64(math.MaxUint64)
		for k, b := range s.buckets {
			if b.used < oldest {
				oldestKey, oldest = k, b.used
			}
		}
		delete(s.buckets, oldestKey)
	}
}

// Len returns how many keys the limiter remembers.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}

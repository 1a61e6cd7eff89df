package audit

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// DefaultHashChunk is how many entries a HashPool worker takes at a time by default: enough
// that claiming work costs nothing next to hashing it, few enough that a worker slowed down
// by a busy machine does not hold up the batch.
const DefaultHashChunk = 64

// HashPool recomputes many entries' own chain hashes at once, on several cores. An entry's
// hash depends only on the entry and its own stored PrevHash, so a batch can be hashed in any
// order; the Walker then checks the links, the sequence and the checkpoints in order, with
// StepSum, exactly as Step would. Each worker has its own Hasher, reused from batch to batch.
//
// A HashPool is not safe for concurrent use: one verification at a time uses it. It starts
// goroutines only for the length of an Each call, so it needs no closing.
type HashPool struct {
	hashers []*Hasher
	chunk   int
}

// NewHashPool returns a pool of workers workers (runtime.GOMAXPROCS(0) when workers ≤ 0) that
// take chunk entries at a time (DefaultHashChunk when chunk ≤ 0). With one worker, or a batch
// no larger than a chunk, everything runs on the calling goroutine.
func NewHashPool(workers, chunk int) *HashPool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if chunk <= 0 {
		chunk = DefaultHashChunk
	}
	p := &HashPool{hashers: make([]*Hasher, workers), chunk: chunk}
	for i := range p.hashers {
		p.hashers[i] = NewHasher()
	}
	return p
}

// Workers is the number of workers.
func (p *HashPool) Workers() int { return len(p.hashers) }

// Each calls fn(h, i) once for every i in [0, n), spread over the workers; h is the calling
// worker's own Hasher. Calls for different i may run at the same time, so fn must only write
// what belongs to item i. Each returns when every call has returned.
func (p *HashPool) Each(n int, fn func(h *Hasher, i int)) {
	workers := min(len(p.hashers), (n+p.chunk-1)/p.chunk)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(p.hashers[0], i)
		}
		return
	}
	var (
		next atomic.Int64 // first index not yet claimed
		wg   sync.WaitGroup
	)
	work := func(h *Hasher) {
		for {
			hi := int(next.Add(int64(p.chunk)))
			lo := hi - p.chunk
			if lo >= n {
				return
			}
			for i := lo; i < min(hi, n); i++ {
				fn(h, i)
			}
		}
	}
	wg.Add(workers - 1)
	for _, h := range p.hashers[1:workers] {
		go func() {
			defer wg.Done()
			work(h)
		}()
	}
	work(p.hashers[0])
	wg.Wait()
}

// Sum is the hash an entry should have given its own PrevHash: SHA-256(canonical(e) ‖
// e.PrevHash). StepSum takes it.
func (c *Hasher) Sum(e *Entry) Hash { return c.Chain(&e.Event, e.PrevHash) }

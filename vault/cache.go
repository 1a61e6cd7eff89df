package vault

import (
	"container/list"
	"strings"
	"sync"
	"time"
)

// keyCache is a bounded LRU of plaintext data keys with an absolute time to live. Keys are zeroed
// when they leave the cache (eviction, expiry, removal, purge). The AES key schedule a cipher
// derives from a key during one operation is heap memory Go does not let us wipe; it is dropped
// right after the operation.
type keyCache struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	now   func() time.Time
	ll    *list.List // front = most recently used
	items map[string]*list.Element
	stats CacheStats
	// shreds counts invalidations; a key loaded before one may belong to a shredded scope.
	shreds uint64
}

// CacheStats counts the data key cache's activity since the envelope was created.
type CacheStats struct {
	Hits, Misses, Evictions, Expirations uint64
	Size                                 int
}

// cachedKey is one plaintext data key. mu lets an operation use the key while eviction waits to
// zero it; dead marks a zeroed key that must be fetched again.
type cachedKey struct {
	id      string
	expires time.Time
	mu      sync.RWMutex
	key     []byte
	dead    bool
}

// use calls fn with the key unless it was zeroed; it reports whether fn ran.
func (c *cachedKey) use(fn func(key []byte)) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.dead {
		return false
	}
	fn(c.key)
	return true
}

func (c *cachedKey) zero() {
	c.mu.Lock()
	clear(c.key)
	c.dead = true
	c.mu.Unlock()
}

func newKeyCache(maxEntries int, ttl time.Duration, now func() time.Time) *keyCache {
	return &keyCache{max: maxEntries, ttl: ttl, now: now, ll: list.New(), items: map[string]*list.Element{}}
}

// cacheID names a scope in the cache.
func cacheID(tenantID, scopeID string) string { return tenantID + "\x00" + scopeID }

// get returns the live key of id, or nil.
func (c *keyCache) get(id string) *cachedKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[id]
	if !ok {
		c.stats.Misses++
		return nil
	}
	ck := el.Value.(*cachedKey)
	if !c.now().Before(ck.expires) {
		c.removeElement(el)
		c.stats.Expirations++
		c.stats.Misses++
		return nil
	}
	c.ll.MoveToFront(el)
	c.stats.Hits++
	return ck
}

// put caches key (taking ownership of the slice) under id, replacing and zeroing any previous key,
// and evicts the least recently used keys beyond the bound.
func (c *keyCache) put(id string, key []byte) *cachedKey {
	ck := &cachedKey{id: id, key: key, expires: c.now().Add(c.ttl)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.insert(ck)
	return ck
}

// insert links ck in, replacing an older key of the same id, and evicts beyond the bound. c.mu is
// held.
func (c *keyCache) insert(ck *cachedKey) {
	if el, ok := c.items[ck.id]; ok {
		c.removeElement(el)
	}
	c.items[ck.id] = c.ll.PushFront(ck)
	for c.ll.Len() > c.max {
		c.removeElement(c.ll.Back())
		c.stats.Evictions++
	}
}

// peek returns the live key of id without counting a hit or a miss.
func (c *keyCache) peek(id string) *cachedKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[id]
	if !ok || !c.now().Before(el.Value.(*cachedKey).expires) {
		return nil
	}
	return el.Value.(*cachedKey)
}

// epoch returns the invalidation counter; pass it to putIfEpoch after loading a key.
func (c *keyCache) epoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.shreds
}

// putIfEpoch caches key like put unless a scope was invalidated since epoch was read; then it
// zeroes key and returns nil, and the caller loads again.
func (c *keyCache) putIfEpoch(id string, key []byte, epoch uint64) *cachedKey {
	c.mu.Lock()
	stale := c.shreds != epoch
	c.mu.Unlock()
	if stale {
		clear(key)
		return nil
	}
	ck := &cachedKey{id: id, key: key, expires: c.now().Add(c.ttl)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shreds != epoch {
		ck.zero()
		return nil
	}
	c.insert(ck)
	return ck
}

// invalidate drops a shredded scope's key and makes keys loaded before now unusable.
func (c *keyCache) invalidate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shreds++
	if el, ok := c.items[id]; ok {
		c.removeElement(el)
	}
}

// invalidateTenant drops every key of a tenant whose key was destroyed.
func (c *keyCache) invalidateTenant(tenantID string) {
	c.mu.Lock()
	c.shreds++
	c.mu.Unlock()
	c.removeTenant(tenantID)
}

// remove drops and zeroes the key of id.
func (c *keyCache) remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		c.removeElement(el)
	}
}

// removeTenant drops and zeroes every key of a tenant.
func (c *keyCache) removeTenant(tenantID string) {
	prefix := tenantID + "\x00"
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, el := range c.items {
		if strings.HasPrefix(id, prefix) {
			c.removeElement(el)
		}
	}
}

// sweep drops and zeroes every expired key.
func (c *keyCache) sweep() {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, el := range c.items {
		if !now.Before(el.Value.(*cachedKey).expires) {
			c.removeElement(el)
			c.stats.Expirations++
		}
	}
}

// purge drops and zeroes every key.
func (c *keyCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, el := range c.items {
		c.removeElement(el)
	}
}

func (c *keyCache) snapshot() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Size = c.ll.Len()
	return s
}

// removeElement unlinks and zeroes one entry. c.mu is held; zeroing waits for operations that
// are using the key, which never take c.mu while they hold it.
func (c *keyCache) removeElement(el *list.Element) {
	ck := el.Value.(*cachedKey)
	c.ll.Remove(el)
	delete(c.items, ck.id)
	ck.zero()
}

package vault

import (
	"bytes"
	"testing"
	"time"
)

func TestKeyCacheTTLAndBound(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newKeyCache(2, time.Minute, func() time.Time { return now })
	key := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	a := c.put("a", key(1))
	b := c.put("b", key(2))
	if c.get("a") != a {
		t.Fatal("get(a) did not return the cached key")
	}
	c.put("c", key(3)) // evicts b, the least recently used
	if c.get("b") != nil {
		t.Error("b still cached after eviction")
	}
	if !b.dead || !bytes.Equal(b.key, make([]byte, 32)) {
		t.Error("evicted key not zeroed")
	}
	if b.use(func([]byte) { t.Error("use ran on a zeroed key") }) {
		t.Error("use on a zeroed key reported true")
	}

	now = now.Add(time.Minute)
	if c.get("a") != nil {
		t.Error("a still served at its expiry time")
	}
	if !a.dead {
		t.Error("expired key not zeroed on access")
	}
	cEntry := c.peek("c")
	if cEntry != nil {
		t.Error("peek served an expired key")
	}
	c.sweep()
	if st := c.snapshot(); st.Size != 0 || st.Evictions != 1 || st.Expirations != 2 {
		t.Errorf("stats after sweep = %+v, want empty with 1 eviction and 2 expirations", st)
	}

	d := c.put("t1\x00x", key(4))
	e := c.put("t2\x00x", key(5))
	c.removeTenant("t1")
	if !d.dead || e.dead {
		t.Error("removeTenant zeroed the wrong tenant's keys")
	}
	epoch := c.epoch()
	c.invalidate("t2\x00x")
	if !e.dead {
		t.Error("invalidate left the key alive")
	}
	stale := key(6)
	if c.putIfEpoch("t2\x00x", stale, epoch) != nil {
		t.Error("putIfEpoch cached a key loaded before an invalidation")
	}
	if !bytes.Equal(stale, make([]byte, 32)) {
		t.Error("putIfEpoch did not zero the refused key")
	}
	if c.putIfEpoch("t2\x00x", key(7), c.epoch()) == nil {
		t.Error("putIfEpoch refused a key loaded after the invalidation")
	}
	c.purge()
	if c.snapshot().Size != 0 {
		t.Error("purge left keys")
	}
}

func TestBindingAADIsInjective(t *testing.T) {
	// Length prefixes keep bindings whose concatenations collide apart.
	pairs := [][2]Binding{
		{{Tenant: "ab", Scope: "c", Field: "f"}, {Tenant: "a", Scope: "bc", Field: "f"}},
		{{Tenant: "a", Scope: "b", Field: "cf"}, {Tenant: "a", Scope: "bc", Field: "f"}},
		{{Tenant: "a", Scope: "b", Field: "f", Seq: 1}, {Tenant: "a", Scope: "b", Field: "f", Seq: 256}},
	}
	for _, p := range pairs {
		if bytes.Equal(p[0].aad(formatV1), p[1].aad(formatV1)) {
			t.Errorf("aad(%+v) == aad(%+v)", p[0], p[1])
		}
	}
}

package limit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestAllow(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	l := New(Every(time.Second, 3), 1000, c.now)
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d refused, want allowed within burst", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != time.Second {
		t.Fatalf("4th request = %v, %v; want refused with 1s wait", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key refused; want keys independent")
	}
	c.add(500 * time.Millisecond)
	if ok, wait := l.Allow("a"); ok || wait != 500*time.Millisecond {
		t.Fatalf("after 0.5s = %v, %v; want refused with 0.5s wait", ok, wait)
	}
	c.add(500 * time.Millisecond)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("after 1s refused; want one token refilled")
	}
	c.add(time.Hour)
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("after an hour request %d refused; want full burst again", i+1)
		}
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("burst not capped: a 4th token after an hour")
	}
}

func TestBoundedMemory(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	l := New(Every(time.Minute, 2), 160, c.now)
	l.Allow("abuser")
	l.Allow("abuser")
	for i := range 10000 {
		l.Allow(fmt.Sprint("k", i))
		if i%4 == 0 {
			// The abuser keeps hammering: a recently used key survives eviction, so it stays
			// throttled however many other keys come and go.
			if ok, _ := l.Allow("abuser"); ok {
				t.Fatalf("abuser allowed after %d other keys; want refused", i)
			}
		}
	}
	if n := l.Len(); n > 160 {
		t.Fatalf("limiter holds %d keys, want at most 160", n)
	}
}

func TestIdleKeysForgotten(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	l := New(Every(time.Second, 1), 16, c.now)
	l.Allow("a")
	c.add(time.Minute)
	for i := range 16 {
		l.Allow(fmt.Sprint("k", i))
	}
	if n := l.Len(); n > 16 {
		t.Fatalf("holds %d keys, want at most 16", n)
	}
}

func BenchmarkAllow(b *testing.B) {
	l := New(Every(time.Millisecond, 1000), 100000, time.Now)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("visitor-", i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(keys[i%len(keys)])
			i++
		}
	})
}

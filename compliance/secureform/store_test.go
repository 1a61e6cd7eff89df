package secureform

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/compliance/pan"
)

var keyA = Key{Tenant: "t1", Conversation: "c1", Request: "r1"}

func newStore(t *testing.T, cfg Config) (*Store, *clock) {
	t.Helper()
	clk := newClock()
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	s, err := NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

func TestStoreLifecycle(t *testing.T) {
	s, clk := newStore(t, Config{})
	c := mustCard(t, "4111111111111111", "12/28", "123", "Ada")
	h, err := s.Put(context.Background(), keyA, "agent-1", c)
	if err != nil {
		t.Fatal(err)
	}
	if want := testNow.Add(DefaultTTL); !h.HeldUntil.Equal(want) || h.Brand != pan.BrandVisa || h.Agent != "agent-1" {
		t.Errorf("holding = %+v, want held until %v", h, want)
	}
	m, _, err := s.View(keyA, "agent-1", pan.ModeLast4)
	if err != nil || m.Number != "••••••••••••1111" {
		t.Fatalf("View = %+v, %v", m, err)
	}
	if _, _, err := s.View(keyA, "agent-2", pan.ModeLast4); !errors.Is(err, ErrForbidden) {
		t.Errorf("View by another agent = %v, want ErrForbidden", err)
	}
	if _, _, err := s.Reveal(keyA, "agent-2"); !errors.Is(err, ErrForbidden) {
		t.Errorf("Reveal by another agent = %v, want ErrForbidden", err)
	}
	if _, _, err := s.View(Key{Tenant: "t1", Conversation: "c2", Request: "r1"}, "agent-1", pan.ModeLast4); !errors.Is(err, ErrNotFound) {
		t.Errorf("View of another conversation's key = %v, want ErrNotFound", err)
	}
	r, _, err := s.Reveal(keyA, "agent-1")
	if err != nil {
		t.Fatal(err)
	}
	if string(r.d.number[:r.d.nlen]) != "4111111111111111" || string(r.d.cvc[:r.d.clen]) != "123" {
		t.Error("Reveal does not hold the card")
	}
	r.Wipe()
	if _, err := s.Put(context.Background(), keyA, "agent-1", mustCard(t, "5555555555554444", "12/28", "123", "X")); !errors.Is(err, ErrExists) {
		t.Errorf("second Put = %v, want ErrExists", err)
	}
	clk.Advance(DefaultTTL - time.Second)
	if _, _, err := s.View(keyA, "agent-1", pan.ModeLast4); err != nil {
		t.Errorf("View just before the TTL = %v", err)
	}
	if !s.Purge(keyA) {
		t.Error("Purge found nothing")
	}
	if !zeroed(&c.d) {
		t.Error("Purge did not zero the card")
	}
	if _, _, err := s.View(keyA, "agent-1", pan.ModeLast4); !errors.Is(err, ErrNotFound) {
		t.Errorf("View after Purge = %v, want ErrNotFound", err)
	}
	if s.Purge(keyA) {
		t.Error("second Purge found a card")
	}
}

func TestStoreTTL(t *testing.T) {
	s, clk := newStore(t, Config{TTL: time.Minute})
	c := mustCard(t, "4111111111111111", "12/28", "123", "Ada")
	if _, err := s.Put(context.Background(), keyA, "a", c); err != nil {
		t.Fatal(err)
	}
	other := Key{Tenant: "t1", Conversation: "c1", Request: "r2"}
	c2 := mustCard(t, "4111111111111111", "12/28", "123", "Ada")
	clk.Advance(30 * time.Second)
	if _, err := s.Put(context.Background(), other, "a", c2); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Second)
	if _, _, err := s.View(keyA, "a", pan.ModeLast4); !errors.Is(err, ErrExpired) {
		t.Errorf("View after the TTL = %v, want ErrExpired", err)
	}
	if !zeroed(&c.d) {
		t.Error("expired card not zeroed on access")
	}
	clk.Advance(30 * time.Second)
	if got := s.Sweep(); len(got) != 1 || got[0] != other {
		t.Errorf("Sweep = %v, want [%v]", got, other)
	}
	if !zeroed(&c2.d) || s.Len() != 0 {
		t.Error("Sweep left a card")
	}
}

func TestStorePurgeConversationAndClose(t *testing.T) {
	s, _ := newStore(t, Config{})
	var cards []*Card
	for i, conv := range []string{"c1", "c1", "c2"} {
		c := mustCard(t, "4111111111111111", "12/28", "123", "Ada")
		cards = append(cards, c)
		if _, err := s.Put(context.Background(), Key{Tenant: "t1", Conversation: conv, Request: fmt.Sprint(i)}, "a", c); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.PurgeConversation("t1", "c1"); len(got) != 2 {
		t.Errorf("PurgeConversation = %v, want 2 keys", got)
	}
	if !zeroed(&cards[0].d) || !zeroed(&cards[1].d) || zeroed(&cards[2].d) {
		t.Error("PurgeConversation zeroed the wrong cards")
	}
	if got := s.PurgeConversation("t2", "c2"); len(got) != 0 {
		t.Errorf("another tenant's PurgeConversation = %v, want none", got)
	}
	s.Close()
	if !zeroed(&cards[2].d) || s.Len() != 0 {
		t.Error("Close left a card")
	}
}

func TestStoreBounded(t *testing.T) {
	s, clk := newStore(t, Config{MaxEntries: 2, TTL: time.Minute})
	put := func(i int) error {
		_, err := s.Put(context.Background(), Key{Tenant: "t", Conversation: "c", Request: fmt.Sprint(i)}, "a", mustCard(t, "4111111111111111", "12/28", "123", "Ada"))
		return err
	}
	for i := range 2 {
		if err := put(i); err != nil {
			t.Fatal(err)
		}
	}
	c := mustCard(t, "4111111111111111", "12/28", "123", "Ada")
	if _, err := s.Put(context.Background(), Key{Tenant: "t", Conversation: "c", Request: "x"}, "a", c); !errors.Is(err, ErrFull) {
		t.Fatalf("Put into a full store = %v, want ErrFull", err)
	}
	if !zeroed(&c.d) {
		t.Error("a refused card was not zeroed")
	}
	clk.Advance(time.Minute)
	if err := put(3); err != nil {
		t.Errorf("Put after the others expired = %v", err)
	}
}

func TestStoreConcurrent(t *testing.T) {
	s, _ := newStore(t, Config{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := Key{Tenant: "t", Conversation: fmt.Sprint(i % 2), Request: fmt.Sprint(i)}
			if _, err := s.Put(context.Background(), k, "a", mustCard(t, "4111111111111111", "12/28", "123", "Ada")); err != nil {
				t.Error(err)
			}
			for range 50 {
				_, _, _ = s.View(k, "a", pan.ModeBINLast4)
				if r, _, err := s.Reveal(k, "a"); err == nil {
					r.Wipe()
				}
				_ = s.Holdings()
			}
			s.PurgeConversation("t", fmt.Sprint(i%2))
		}()
	}
	wg.Wait()
	if s.Len() != 0 {
		t.Errorf("Len = %d after every conversation was purged", s.Len())
	}
}

func TestNewStoreRejects(t *testing.T) {
	for _, cfg := range []Config{{TTL: -1}, {MaxEntries: -1}} {
		if _, err := NewStore(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("NewStore(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
}

func BenchmarkParseSubmission(b *testing.B) {
	body := form("4111 1111 1111 1111", "12/28", "123", "Ada Lovelace")
	b.ReportAllocs()
	for b.Loop() {
		c, err := ParseSubmission(body, testNow)
		if err != nil {
			b.Fatal(err)
		}
		c.Wipe()
	}
}

func BenchmarkStoreView(b *testing.B) {
	s, err := NewStore(Config{Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Put(context.Background(), keyA, "a", mustCard(b, "4111111111111111", "12/28", "123", "Ada")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.View(keyA, "a", pan.ModeBINLast4); err != nil {
			b.Fatal(err)
		}
	}
}

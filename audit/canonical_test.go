package audit

import (
	"encoding/hex"
	"testing"
	"time"
)

// vectorEvent is the test vector published in CANONICAL.md.
func vectorEvent() Event {
	return Event{
		Tenant: "t1", Seq: 1, Time: time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC),
		Actor:  Actor{ID: "u1", Role: "owner", Kind: ActorUser},
		Origin: Origin{IP: "203.0.113.9", UserAgent: "curl/8", Node: "n1"},
		Action: ActionSignInSuccess, Target: Target{Kind: "user", ID: "u1"}, Outcome: Success,
		RequestID: "r1", Details: map[string]string{"mfa": "totp", "b": "2"},
	}
}

func TestCanonicalVector(t *testing.T) {
	e := vectorEvent()
	const wantCanon = "00000015706172" // "parley.audit.event.v1" length prefix and start
	got := hex.EncodeToString(CanonicalEvent(e))
	if got[:len(wantCanon)] != wantCanon {
		t.Fatalf("got prefix %s, want %s", got[:len(wantCanon)], wantCanon)
	}
	h1 := ChainHash(e, Hash{})
	if h1.String() != vectorHash1 {
		t.Errorf("got hash %s, want the published vector %s", h1, vectorHash1)
	}
	e2 := e
	e2.Seq, e2.Details = 2, nil
	if h2 := ChainHash(e2, h1); h2.String() != vectorHash2 {
		t.Errorf("got hash %s, want the published vector %s", h2, vectorHash2)
	}
}

// The hashes of the CANONICAL.md test vector.
const (
	vectorHash1 = "5221209ba78c5e17ffb2089acd9eead401147cdbcb157f9d4e5532cf9cfe443e"
	vectorHash2 = "ca03a5a3a410639dccfaf2469d6ffcacb5207a9cbda39fd156b4e4cd7bb40d69"
)

func TestCanonicalCoversEveryField(t *testing.T) {
	base := vectorEvent()
	h := ChainHash(base, Hash{})
	mutations := map[string]func(*Event){
		"tenant":       func(e *Event) { e.Tenant = "t2" },
		"seq":          func(e *Event) { e.Seq = 2 },
		"time":         func(e *Event) { e.Time = e.Time.Add(time.Microsecond) },
		"actor id":     func(e *Event) { e.Actor.ID = "u2" },
		"actor role":   func(e *Event) { e.Actor.Role = "agent" },
		"actor kind":   func(e *Event) { e.Actor.Kind = ActorSystem },
		"ip":           func(e *Event) { e.Origin.IP = "203.0.113.10" },
		"user agent":   func(e *Event) { e.Origin.UserAgent = "curl/9" },
		"node":         func(e *Event) { e.Origin.Node = "n2" },
		"action":       func(e *Event) { e.Action = ActionSignOut },
		"target kind":  func(e *Event) { e.Target.Kind = "role" },
		"target id":    func(e *Event) { e.Target.ID = "u2" },
		"outcome":      func(e *Event) { e.Outcome = Failure },
		"reason":       func(e *Event) { e.Reason = "x" },
		"request id":   func(e *Event) { e.RequestID = "r2" },
		"detail value": func(e *Event) { e.Details = map[string]string{"mfa": "totq", "b": "2"} },
		"detail key":   func(e *Event) { e.Details = map[string]string{"mfb": "totp", "b": "2"} },
		"detail gone":  func(e *Event) { e.Details = map[string]string{"mfa": "totp"} },
		// Length prefixes keep field boundaries: moving a character between two
		// adjacent fields changes the hash.
		"boundary shift": func(e *Event) { e.Target.Kind, e.Target.ID = "useru", "1" },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			e := vectorEvent()
			mutate(&e)
			if ChainHash(e, Hash{}) == h {
				t.Errorf("got the same hash after changing the %s", name)
			}
		})
	}
	t.Run("prev hash", func(t *testing.T) {
		if ChainHash(base, Hash{1}) == h {
			t.Error("got the same hash with another predecessor")
		}
	})
	t.Run("time zone and sub-microsecond", func(t *testing.T) {
		e := vectorEvent()
		e.Time = e.Time.In(time.FixedZone("X", 3600)).Add(999 * time.Nanosecond)
		if ChainHash(e, Hash{}) != h {
			t.Error("got another hash for the same instant in another zone")
		}
	})
}

func BenchmarkChainHash(b *testing.B) {
	e := vectorEvent()
	enc := NewHasher()
	b.ReportAllocs()
	b.SetBytes(int64(len(CanonicalEvent(e)) + 32))
	var h Hash
	for b.Loop() {
		h = enc.Chain(&e, h)
	}
}

func TestCanonicalTimeMatchesTheFormatter(t *testing.T) {
	times := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 12, 0, 0, 1000, time.UTC),
		time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
	}
	for i := int64(0); i < 20000; i++ {
		times = append(times, time.UnixMicro(-62_167_219_200_000_000+i*15_778_476_000_123).UTC())
	}
	times = append(times, time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, tm := range times {
		got := string(appendTimeField(nil, tm)[4:])
		if want := tm.Format(TimeLayout); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
}

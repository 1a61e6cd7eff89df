package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
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

// referenceCanonical is CANONICAL.md §2 written as plainly as possible, to check the optimised
// encoder (its digit tables, day cache and detail key cache) against.
func referenceCanonical(e Event) []byte {
	var b []byte
	field := func(s string) {
		b = append(b, byte(len(s)>>24), byte(len(s)>>16), byte(len(s)>>8), byte(len(s)))
		b = append(b, s...)
	}
	field("parley.audit.event.v1")
	field(e.Tenant)
	field(strconv.FormatInt(e.Seq, 10))
	field(e.Time.UTC().Format(TimeLayout))
	for _, s := range []string{string(e.Actor.Kind), e.Actor.ID, e.Actor.Role, e.Origin.IP, e.Origin.UserAgent, e.Origin.Node,
		string(e.Action), e.Target.Kind, e.Target.ID, string(e.Outcome), e.Reason, e.RequestID} {
		field(s)
	}
	field(strconv.Itoa(len(e.Details)))
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field(k)
		field(e.Details[k])
	}
	return b
}

// TestHasherMatchesTheReference runs one Hasher over a sequence of events chosen to hit and
// miss its caches: details with the same keys, other keys of the same count, a subset, a
// superset, values changed, none; times on the same day, the next day, before 1970, at the
// ends of the fast path and beyond; sequence numbers of every width.
func TestHasherMatchesTheReference(t *testing.T) {
	base := vectorEvent()
	details := []map[string]string{
		{"mfa": "totp", "b": "2"},
		{"mfa": "totp", "b": "3"},
		{"mfa": "totp", "c": "2"},
		{"mfa": "totp"},
		{"mfa": "totp", "b": "2", "a": ""},
		nil,
		{"b": "2", "mfa": "totp"},
		{"": "x", "\xff": "y"},
	}
	times := []time.Time{
		base.Time, base.Time.Add(time.Hour), base.Time.Add(24 * time.Hour), base.Time.Add(-24 * time.Hour),
		time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC), base.Time.In(time.FixedZone("X", -5*3600)),
	}
	seqs := []int64{0, 1, 9, 10, 99, 100, 12345, 99999999, 100000000, 1 << 62, -1}
	actions := []Action{ActionSignInSuccess, ActionSignOut, ActionUserUpdate, ""}
	h := NewHasher()
	for i := 0; i < 400; i++ {
		e := base
		e.Details = details[i%len(details)]
		e.Time = times[i%len(times)]
		e.Seq = seqs[i%len(seqs)]
		e.Action = actions[i%len(actions)]
		if got, want := h.Canonical(&e), referenceCanonical(e); !bytes.Equal(got, want) {
			t.Fatalf("event %d: got\n%q\nwant\n%q", i, got, want)
		}
	}
}

// FuzzCanonical checks the encoder against the reference on arbitrary fields, with one Hasher
// kept across inputs so its caches carry over from one event to the next.
func FuzzCanonical(f *testing.F) {
	f.Add("t1", int64(1), int64(1772357400123456), "auth.sign_in.success", "mfa", "totp", "b", "2")
	f.Add("", int64(-5), int64(-62167219200000000), "", "", "", "", "")
	h := NewHasher()
	f.Fuzz(func(t *testing.T, tenant string, seq, us int64, action, k1, v1, k2, v2 string) {
		e := vectorEvent()
		e.Tenant, e.Seq, e.Time, e.Action = tenant, seq, time.UnixMicro(us).UTC(), Action(action)
		e.Details = map[string]string{k1: v1, k2: v2}
		if len(k1)%3 == 0 {
			delete(e.Details, k2)
		}
		if got, want := h.Canonical(&e), referenceCanonical(e); !bytes.Equal(got, want) {
			t.Fatalf("got\n%q\nwant\n%q", got, want)
		}
	})
}

// TestHasherSumIsSHA256 checks the Hasher's one-call SHA-256 against crypto/sha256 for every
// message length across several blocks, with the buffer's spare capacity holding junk.
func TestHasherSumIsSHA256(t *testing.T) {
	h := NewHasher()
	for n := 0; n <= 300; n++ {
		msg := make([]byte, n, n+200)
		for i := range msg {
			msg[i] = byte(i*7 + n)
		}
		junk := msg[n : n+200]
		for i := range junk {
			junk[i] = 0xa5
		}
		want := sha256.Sum256(msg)
		got, b := h.sum(msg)
		if got != Hash(want) {
			t.Fatalf("length %d: got %x, want %x", n, got, want)
		}
		if len(b) != n || !bytes.Equal(b, msg) {
			t.Fatalf("length %d: the message came back changed", n)
		}
	}
}

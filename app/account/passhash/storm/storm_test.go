package storm

import (
	"crypto/aes"
	"crypto/cipher"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/account/passhash"
)

// chatLikeWork stands in for the chat message path until the chat engine
// exists: seal a 512-byte message with AES-256-GCM, as the vault envelope
// does for every stored message. It takes about a microsecond.
func chatLikeWork() func() {
	block, err := aes.NewCipher(make([]byte, 32))
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	nonce := make([]byte, aead.NonceSize())
	msg := make([]byte, 512)
	out := make([]byte, 0, len(msg)+aead.Overhead())
	return func() { out = aead.Seal(out[:0], nonce, msg, []byte("tenant|conversation|seq")) }
}

func TestStormSaturatesThePool(t *testing.T) {
	h, err := passhash.New(passhash.Config{MaxConcurrent: 1, MaxWaiting: 2})
	if err != nil {
		t.Fatalf("passhash.New: %v", err)
	}
	s, err := Start(Config{Hasher: h})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for st := h.Stats(); st.InFlight < 1 || st.Waiting < 2; st = h.Stats() {
		if time.Now().After(deadline) {
			_, _ = s.Stop()
			t.Fatalf("pool never saturated: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
	during := MeasureFor(300*time.Millisecond, chatLikeWork())
	tot, err := s.Stop()
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if tot.Verifies == 0 {
		t.Errorf("Verifies: got 0, want the storm to complete checks")
	}
	if tot.Busy == 0 {
		t.Errorf("Busy: got 0, want refusals from a storm larger than the pool")
	}
	if during.Calls == 0 || during.P50 <= 0 || during.P99 < during.P50 || during.Max < during.P99 {
		t.Errorf("figures are inconsistent: %v", during)
	}
	if st := h.Stats(); st.InFlight != 0 || st.Waiting != 0 {
		t.Errorf("after Stop: got %+v, want an idle pool", st)
	}
	t.Logf("storm: %d checks (%.1f/s), %d refused; chat-like op during storm: %v",
		tot.Verifies, tot.VerifiesPerSecond(), tot.Busy, during)
}

func TestStartWithoutHasher(t *testing.T) {
	if _, err := Start(Config{}); err == nil {
		t.Errorf("Start without a Hasher: got nil error, want one")
	}
}

func TestMeasurePaced(t *testing.T) {
	n := 0
	start := time.Now()
	f := MeasurePaced(20, 2*time.Millisecond, func() { n++ })
	if n != 20 || f.Calls != 20 {
		t.Fatalf("calls: got op %d times, figures %d, want 20", n, f.Calls)
	}
	if el := time.Since(start); el < 38*time.Millisecond {
		t.Errorf("20 calls 2 ms apart took %v, want at least 38 ms", el)
	}
	if f.P50 > f.P99 || f.P99 > f.P999 || f.P999 > f.Max {
		t.Errorf("percentiles out of order: %v", f)
	}
	// A stall shows up in the calls that were due during it.
	i := 0
	f = MeasurePaced(10, time.Millisecond, func() {
		i++
		if i == 2 {
			time.Sleep(20 * time.Millisecond)
		}
	})
	if f.Max < 20*time.Millisecond || f.P50 < 5*time.Millisecond {
		t.Errorf("a 20 ms stall on call 2 of 10: got %v, want max ≥ 20ms and most later calls late", f)
	}
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		name  string
		calls int
	}{
		{"none", 0},
		{"one", 1},
		{"many", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			f := Measure(tt.calls, func() { n++ })
			if n != tt.calls || f.Calls != tt.calls {
				t.Errorf("calls: got op %d times, figures %d, want %d", n, f.Calls, tt.calls)
			}
			if f.P50 > f.P99 || f.P99 > f.Max {
				t.Errorf("percentiles out of order: %v", f)
			}
		})
	}
}

// BenchmarkChatPathDuringSignInStorm times a chat-like operation back to
// back with no storm, then with a storm against pools of increasing size.
// With one slot per two CPUs (the default) the chat path keeps a CPU; with
// a slot per CPU or more it competes with hashing.
//
//	go test -run '^$' -bench ChatPath -benchtime 2s ./app/account/passhash/storm/
func BenchmarkChatPathDuringSignInStorm(b *testing.B) {
	benchStorms(b, func(n int) Figures { return Measure(n, chatLikeWork()) })
}

// BenchmarkChatMessageLatencyDuringSignInStorm sends one chat-like
// operation per millisecond (b.N of them) and reports how late each
// finished relative to when it was due, without a storm and with one.
//
//	go test -run '^$' -bench ChatMessage -benchtime 3000x ./app/account/passhash/storm/
func BenchmarkChatMessageLatencyDuringSignInStorm(b *testing.B) {
	benchStorms(b, func(n int) Figures { return MeasurePaced(n, time.Millisecond, chatLikeWork()) })
}

// benchStorms runs measure(b.N) once without a storm and once during a
// storm against pools of one, two and four slots.
func benchStorms(b *testing.B, measure func(n int) Figures) {
	b.Run("no storm", func(b *testing.B) {
		b.ReportAllocs()
		report(b, measure(b.N), Totals{})
	})
	for _, slots := range []int{1, 2, 4} {
		b.Run("storm/slots="+strconv.Itoa(slots), func(b *testing.B) {
			h, err := passhash.New(passhash.Config{MaxConcurrent: slots})
			if err != nil {
				b.Fatal(err)
			}
			s, err := Start(Config{Hasher: h})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			f := measure(b.N)
			b.StopTimer()
			tot, err := s.Stop()
			if err != nil {
				b.Fatal(err)
			}
			report(b, f, tot)
		})
	}
}

func report(b *testing.B, f Figures, tot Totals) {
	b.ReportMetric(float64(f.P50.Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(f.P99.Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(f.P999.Nanoseconds()), "p99.9-ns")
	b.ReportMetric(float64(f.Max.Nanoseconds()), "max-ns")
	if tot.Elapsed > 0 {
		b.ReportMetric(tot.VerifiesPerSecond(), "sign-ins/s")
		b.ReportMetric(tot.BusyPerSecond(), "busy/s")
	}
}

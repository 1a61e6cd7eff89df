package pan

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for the split detector.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newSplit(tb testing.TB, o Options, so SplitOptions) (*SplitDetector, *Masker, *fakeClock) {
	tb.Helper()
	m := newMasker(tb, o)
	clock := &fakeClock{t: time.Date(2025, 3, 31, 12, 0, 0, 0, time.UTC)}
	if so.Now == nil {
		so.Now = clock.Now
	}
	d, err := NewSplitDetector(m, so)
	if err != nil {
		tb.Fatalf("NewSplitDetector: %v", err)
	}
	return d, m, clock
}

// step is one message of a split-detection scenario.
type step struct {
	sender, text string
	wait         time.Duration // before the message
	want         string        // delivered text
	// prev maps earlier message ids to the text their stored copy must
	// read after applying Previous (only ids listed are checked).
	prev map[string]string
}

func TestSplitDetector(t *testing.T) {
	tests := []struct {
		name  string
		mode  Mode
		steps []step
	}{
		{"two halves", ModeBINLast4, []step{
			{sender: "v", text: "4111 1111", want: "4111 1111"},
			{sender: "v", text: "1111 1111", want: "•••• 1111", prev: map[string]string{"m0": "4111 11••"}},
		}},
		{"two halves, last4 mode", ModeLast4, []step{
			{sender: "v", text: "4111 1111", want: "4111 1111"},
			{sender: "v", text: "1111 1111", want: "•••• 1111", prev: map[string]string{"m0": "•••• ••••"}},
		}},
		{"four quarters", ModeBINLast4, []step{
			{sender: "v", text: "5555", want: "5555"},
			{sender: "v", text: "5555", want: "5555"},
			{sender: "v", text: "5555", want: "5555"},
			{sender: "v", text: "4444", want: "4444", prev: map[string]string{"m0": "5555", "m1": "55••", "m2": "••••"}},
		}},
		{"text around the pieces", ModeBINLast4, []step{
			{sender: "v", text: "my card is 4111 1111 1111", want: "my card is 4111 1111 1111"},
			{sender: "v", text: " 1111 thanks", want: " 1111 thanks", prev: map[string]string{"m0": "my card is 4111 11•• ••••"}},
		}},
		{"digits glued across messages", ModeBINLast4, []step{
			{sender: "v", text: "41111111", want: "41111111"},
			{sender: "v", text: "11111111", want: "••••1111", prev: map[string]string{"m0": "411111••"}},
		}},
		{"amex split 4-6-5", ModeBINLast4, []step{
			{sender: "v", text: "3782 822463", want: "3782 822463"},
			{sender: "v", text: "10005", want: "•0005", prev: map[string]string{"m0": "3782 82••••"}},
		}},
		{"too slow", ModeBINLast4, []step{
			{sender: "v", text: "4111 1111", want: "4111 1111"},
			{sender: "v", text: "1111 1111", wait: 3 * time.Minute, want: "1111 1111"},
		}},
		{"other sender in between does not matter", ModeBINLast4, []step{
			{sender: "v", text: "4111 1111", want: "4111 1111"},
			{sender: "agent", text: "go on", want: "go on"},
			{sender: "v", text: "1111 1111", want: "•••• 1111", prev: map[string]string{"m0": "4111 11••"}},
		}},
		{"other sender's digits do not combine", ModeBINLast4, []step{
			{sender: "v", text: "4111 1111", want: "4111 1111"},
			{sender: "w", text: "1111 1111", want: "1111 1111"},
		}},
		{"words in between break the chain", ModeBINLast4, []step{
			{sender: "v", text: "4111 1111", want: "4111 1111"},
			{sender: "v", text: "hold on", want: "hold on"},
			{sender: "v", text: "1111 1111", want: "1111 1111"},
		}},
		{"luhn-failing halves", ModeBINLast4, []step{
			{sender: "v", text: "4111 1111", want: "4111 1111"},
			{sender: "v", text: "1111 1112", want: "1111 1112"},
		}},
		{"mixed separator families", ModeBINLast4, []step{
			{sender: "v", text: "4111-1111", want: "4111-1111"},
			{sender: "v", text: "1111 1111", want: "1111 1111"},
		}},
		{"expiry and code after a card", ModeBINLast4, []step{
			{sender: "v", text: "4111 1111 1111 1111", want: "4111 11•• •••• 1111"},
			{sender: "v", text: "12/26", want: "••/••"},
			{sender: "v", text: "cvv is 123", want: "cvv is •••"},
			{sender: "v", text: "I paid 123 dollars", want: "I paid 123 dollars"},
		}},
		{"second split card right after a card", ModeBINLast4, []step{
			{sender: "v", text: "4111 1111 1111 1111", want: "4111 11•• •••• 1111"},
			{sender: "v", text: "5555 5555", want: "5555 5555"},
			{sender: "v", text: "5555 4444", want: "•••• 4444", prev: map[string]string{"m1": "5555 55••"}},
		}},
		{"follow-up stops after the window", ModeBINLast4, []step{
			{sender: "v", text: "4111 1111 1111 1111", want: "4111 11•• •••• 1111"},
			{sender: "v", text: "123", wait: 3 * time.Minute, want: "123"},
		}},
		{"code sent before the card", ModeBINLast4, []step{
			{sender: "v", text: "cvv 123 and exp 12/26", want: "cvv 123 and exp 12/26"},
			{sender: "v", text: "card 4111111111111111", want: "card 411111••••••1111", prev: map[string]string{"m0": "cvv ••• and exp ••/••"}},
		}},
		{"split card then expiry in the same message", ModeBINLast4, []step{
			{sender: "v", text: "4111 1111", want: "4111 1111"},
			{sender: "v", text: "1111 1111 exp 12/26", want: "•••• 1111 exp ••/••", prev: map[string]string{"m0": "4111 11••"}},
		}},
		{"unicode digits and invisible characters", ModeBINLast4, []step{
			{sender: "v", text: "４１１１\u200b１１１１", want: "４１１１\u200b１１１１"},
			{sender: "v", text: "1111 1111", want: "•••• 1111", prev: map[string]string{"m0": "４１１１\u200b１１••"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, m, clock := newSplit(t, Options{Mode: tt.mode}, SplitOptions{})
			stored := map[string]string{}
			for i, st := range tt.steps {
				clock.Advance(st.wait + time.Second)
				id := fmt.Sprintf("m%d", i)
				got, res := d.Mask(st.sender, id, st.text)
				if got != st.want {
					t.Errorf("step %d: Mask(%q) = %q, want %q", i, st.text, got, st.want)
				}
				stored[id] = got
				byID := map[string][]Fragment{}
				for _, f := range res.Previous {
					byID[f.MessageID] = append(byID[f.MessageID], f)
				}
				for pid, frags := range byID {
					stored[pid] = m.MaskFragments(stored[pid], frags)
				}
				for pid, want := range st.prev {
					if stored[pid] != want {
						t.Errorf("step %d: stored %s = %q, want %q", i, pid, stored[pid], want)
					}
				}
				if st.prev == nil && len(res.Previous) > 0 {
					t.Errorf("step %d: got Previous %+v, want none", i, res.Previous)
				}
			}
		})
	}
}

func TestSplitResultFields(t *testing.T) {
	d, _, _ := newSplit(t, Options{}, SplitOptions{})
	d.Mask("v", "a", "4111 1111")
	_, res := d.Mask("v", "b", "1111 1111")
	if !res.Found() || len(res.Split) != 1 {
		t.Fatalf("got %+v, want one split match", res)
	}
	want := Match{Start: 0, End: 9, Brand: BrandVisa, Digits: 16}
	if res.Split[0] != want {
		t.Errorf("Split[0] = %+v, want %+v", res.Split[0], want)
	}
	if len(res.Previous) != 1 || res.Previous[0] != (Fragment{MessageID: "a", Start: 0, End: 9, KeepFront: 6}) {
		t.Errorf("Previous = %+v, want one fragment of message a", res.Previous)
	}
}

func TestSplitMaxMessages(t *testing.T) {
	d, _, _ := newSplit(t, Options{}, SplitOptions{MaxMessages: 2})
	for i, part := range []string{"5555", "5555", "5555"} {
		d.Mask("v", fmt.Sprint(i), part)
	}
	if got, _ := d.Mask("v", "3", "4444"); got != "4444" {
		t.Errorf("with 2 remembered messages, got %q, want the fourth quarter untouched", got)
	}
}

func TestSplitBoundedSenders(t *testing.T) {
	d, _, clock := newSplit(t, Options{}, SplitOptions{MaxSenders: 3})
	for i := range 10 {
		d.Mask(fmt.Sprint("s", i), "m", "4111 1111")
	}
	if got := d.Senders(); got != 3 {
		t.Errorf("Senders() = %d, want 3", got)
	}
	// The oldest senders were forgotten, the newest is remembered.
	if got, _ := d.Mask("s0", "m2", "1111 1111"); got != "1111 1111" {
		t.Errorf("forgotten sender: got %q, want untouched", got)
	}
	if got, _ := d.Mask("s9", "m2", "1111 1111"); got != "•••• 1111" {
		t.Errorf("remembered sender: got %q, want masked", got)
	}
	clock.Advance(time.Hour)
	d.Mask("new", "m", "hi")
	d.Mask("new", "m", "hi")
	if got := d.Senders(); got > 2 {
		t.Errorf("after an hour Senders() = %d, want idle senders dropped", got)
	}
	d.Forget("new")
	if got := d.Senders(); got > 1 {
		t.Errorf("after Forget Senders() = %d", got)
	}
}

func TestSplitForgetPrefix(t *testing.T) {
	d, _, _ := newSplit(t, Options{}, SplitOptions{})
	for _, sender := range []string{"c1|visitor", "c1|agent", "c1|supervisor", "c10|visitor", "c2|visitor"} {
		d.Mask(sender, "m1", "4111 1111")
	}
	d.ForgetPrefix("c1|")
	if got := d.Senders(); got != 2 {
		t.Fatalf("after ForgetPrefix Senders() = %d, want 2 (c10 and c2 kept)", got)
	}
	if got, _ := d.Mask("c1|supervisor", "m2", "1111 1111"); got != "1111 1111" {
		t.Errorf("forgotten sender: got %q, want untouched", got)
	}
	if got, _ := d.Mask("c10|visitor", "m2", "1111 1111"); got != "•••• 1111" {
		t.Errorf("other conversation's sender: got %q, want still remembered and masked", got)
	}
}

func TestSplitOptionsRejected(t *testing.T) {
	m := newMasker(t, Options{})
	for _, tt := range []struct {
		name string
		m    *Masker
		o    SplitOptions
	}{
		{"nil masker", nil, SplitOptions{}},
		{"negative window", m, SplitOptions{Window: -time.Second}},
		{"negative messages", m, SplitOptions{MaxMessages: -1}},
		{"negative senders", m, SplitOptions{MaxSenders: -1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewSplitDetector(tt.m, tt.o); !errors.Is(err, ErrInvalidOption) {
				t.Errorf("NewSplitDetector error = %v, want ErrInvalidOption", err)
			}
		})
	}
}

func TestSplitConcurrentSenders(t *testing.T) {
	d, _, _ := newSplit(t, Options{}, SplitOptions{})
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sender := fmt.Sprint("visitor", g)
			for i := range 50 {
				d.Mask(sender, fmt.Sprint(i, "a"), "4111 1111")
				if got, _ := d.Mask(sender, fmt.Sprint(i, "b"), "1111 1111"); got != "•••• 1111" {
					errs <- got
					return
				}
				d.Mask(sender, fmt.Sprint(i, "c"), "thanks")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent split: got %q, want %q", got, "•••• 1111")
	}
}

package pan

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are starting points shared by the fuzz tests.
var fuzzSeeds = []string{
	"",
	"hello",
	"4111 1111 1111 1111",
	"card 4111-1111-1111-1111 exp 12/26 cvv 123",
	"３７８２ ８２２４６３ １０００５",
	"4\u200b1\u200b1\u200b1 1111 1111 1111",
	"4️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣",
	"+49 1512 3456789",
	"4111 1111 1111 1111 5555 5555 5555 4444",
	"1 4111 1111 1111 1111 111",
	"30.01.2024 10.15.30",
	"41111111111111111111111111",
	"\xff4111111111111111\xfe",
	"6212345678901234567",
	"4222222222222 4222222222222",
	"cvv 123 4111111111111111 12/2026",
}

// pickMask returns a mask rune that does not occur in any of texts, or 0.
func pickMask(texts ...string) rune {
	for _, r := range []rune{'•', 'X', '#', '~', '¤'} {
		free := true
		for _, s := range texts {
			if strings.ContainsRune(s, r) {
				free = false
			}
		}
		if free {
			return r
		}
	}
	return 0
}

// checkWindow verifies that the readable digits of a reference window are
// at most its BIN and last four digits and that at least MinHidden (BIN
// mode) or all but four (last-four mode) are masked.
func checkWindow(t *testing.T, mode Mode, w refWindow, flags []bool, what string) {
	t.Helper()
	n := w.last - w.first + 1
	front := BINDigits
	if mode == ModeLast4 {
		front = 0
	}
	hidden := 0
	for k := range n {
		if flags[w.first+k] {
			hidden++
			continue
		}
		if k >= front && k < n-LastDigits {
			t.Fatalf("%s: digit %d of the %d-digit card at digit %d is readable", what, k, n, w.first)
		}
	}
	if hidden < MinHidden {
		t.Fatalf("%s: only %d digits of the %d-digit card at digit %d are masked", what, hidden, n, w.first)
	}
}

func FuzzMask(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, uint8(i))
	}
	f.Fuzz(func(t *testing.T, in string, opt uint8) {
		mode := Mode(opt & 1)
		mask := pickMask(in)
		if mask == 0 {
			t.Skip()
		}
		wins, _ := refFind(in)
		for _, ctx := range []int{-1, 0} {
			m, err := NewMasker(Options{Mode: mode, MaskRune: mask, ContextRunes: ctx})
			if err != nil {
				t.Fatal(err)
			}
			out, res := m.Mask(in)
			if utf8.ValidString(in) && !utf8.ValidString(out) {
				t.Fatalf("Mask(%q) = %q, not valid UTF-8", in, out)
			}
			flags, ok := refMaskedFlags(in, out, string(mask))
			if !ok {
				t.Fatalf("Mask(%q) = %q changes more than digits", in, out)
			}
			inWindow := make([]bool, len(flags))
			for _, w := range wins {
				checkWindow(t, mode, w, flags, "Mask("+strconvQuote(in)+")")
				for k := w.first; k <= w.last; k++ {
					inWindow[k] = true
				}
			}
			if ctx < 0 {
				for k := range flags {
					if flags[k] && !inWindow[k] {
						t.Fatalf("Mask(%q) = %q masks digit %d, which is in no card number", in, out, k)
					}
				}
			}
			if res.Found() != (len(wins) > 0) || Contains(in) != res.Found() {
				t.Fatalf("Mask(%q) found %v, Contains %v, reference found %d", in, res.Found(), Contains(in), len(wins))
			}
			if !res.Found() && out != in {
				t.Fatalf("Mask(%q) = %q without a card number", in, out)
			}
			for _, mt := range res.Matches {
				checkMatch(t, in, mt)
			}
		}
	})
}

// strconvQuote quotes s for messages.
func strconvQuote(s string) string {
	return "\"" + strings.ToValidUTF8(s, "\uFFFD") + "\""
}

// checkMatch verifies that a match spans whole digits and that its digits
// form a card number of its brand.
func checkMatch(t *testing.T, in string, mt Match) {
	t.Helper()
	if mt.Start < 0 || mt.End > len(in) || mt.Start >= mt.End {
		t.Fatalf("match %+v out of range for %d bytes", mt, len(in))
	}
	var digits []byte
	for _, r := range in[mt.Start:mt.End] {
		if v := digitValue(r); v >= 0 {
			digits = append(digits, byte('0'+v))
		}
	}
	if len(digits) != mt.Digits {
		t.Fatalf("match %+v holds %d digits", mt, len(digits))
	}
	if b, ok := Classify(string(digits)); !ok || b != mt.Brand {
		t.Fatalf("match %+v: Classify = %v, %v", mt, b, ok)
	}
	if _, ok := refBrand(string(digits)); !ok {
		t.Fatalf("match %+v is not a card number for the reference", mt)
	}
}

func FuzzRedactStream(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, uint8(i))
	}
	f.Add("a\r\nb 4111111111111111\r\n\x00\xff", uint8(200))
	f.Fuzz(func(t *testing.T, data string, rep uint8) {
		m := newMasker(t, Options{Mode: Mode(rep & 1)})
		in := data
		if rep >= 128 && len(data) > 0 {
			// Build long lines so that chunking takes place.
			target := MinChunkSize + 2*streamOverlap + int(rep)*97
			in = strings.Repeat(data, target/len(data)+1)
		}
		var out bytes.Buffer
		if err := RedactStream(strings.NewReader(in), &out, StreamOptions{Masker: m, ChunkSize: MinChunkSize}); err != nil {
			t.Fatalf("RedactStream: %v", err)
		}
		want := maskLines(m, in)
		if out.String() != want {
			t.Fatalf("RedactStream differs from line-by-line Mask for %d bytes of input", len(in))
		}
		if want == in && !bytes.Equal(out.Bytes(), []byte(in)) {
			t.Fatalf("RedactStream changed input without card numbers")
		}
	})
}

func FuzzSplitDetector(f *testing.F) {
	f.Add("4111 1111", "1111 1111", "thanks", uint8(0))
	f.Add("my card 5555", "5555", "5555 4444 exp 12/26", uint8(1))
	f.Add("cvv 123", "4111111111111111", "12/26", uint8(0))
	f.Add("3782 822463", " 10005,", "", uint8(0))
	f.Add("４１１１\u200b", "1111 1111 1111", "", uint8(1))
	f.Fuzz(func(t *testing.T, a, b, c string, mode uint8) {
		msgs := []string{a, b, c}
		if strings.ContainsRune(a+b+c, refMarker) {
			t.Skip()
		}
		mask := pickMask(msgs...)
		if mask == 0 {
			t.Skip()
		}
		md := Mode(mode & 1)
		m := newMasker(t, Options{Mode: md, MaskRune: mask})
		d, err := NewSplitDetector(m, SplitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{"a", "b", "c"}
		stored := map[string]string{}
		for i, text := range msgs {
			out, res := d.Mask("visitor", ids[i], text)
			if utf8.ValidString(text) && !utf8.ValidString(out) {
				t.Fatalf("message %d: output %q is not valid UTF-8", i, out)
			}
			stored[ids[i]] = out
			for _, fr := range res.Previous {
				prev, ok := stored[fr.MessageID]
				if !ok || fr.MessageID == ids[i] {
					t.Fatalf("message %d: fragment %+v names an unknown earlier message", i, fr)
				}
				if fr.Start < 0 || fr.End > len(prev) || fr.Start > fr.End {
					t.Fatalf("message %d: fragment %+v out of range for %q", i, fr, prev)
				}
				stored[fr.MessageID] = m.MaskFragments(prev, []Fragment{fr})
			}
		}
		var flags []bool
		for i, text := range msgs {
			fl, ok := refMaskedFlags(text, stored[ids[i]], string(mask))
			if !ok {
				t.Fatalf("message %d: stored %q changes more than digits of %q", i, stored[ids[i]], text)
			}
			flags = append(flags, fl...)
		}
		joined := a + string(refMarker) + b + string(refMarker) + c
		wins, _ := refFindJoined(joined)
		for _, w := range wins {
			checkWindow(t, md, w, flags, "messages "+strconvQuote(a)+", "+strconvQuote(b)+", "+strconvQuote(c))
		}
	})
}

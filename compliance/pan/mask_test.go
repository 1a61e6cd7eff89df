package pan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMaskKnownTestCards(t *testing.T) {
	m := newMasker(t, Options{})
	tests := []struct {
		name, pan string
		brand     Brand
	}{
		{"visa 16", "4111111111111111", BrandVisa},
		{"visa 16 b", "4012888888881881", BrandVisa},
		{"visa 13", "4222222222222", BrandVisa},
		{"mastercard 5-series", "5555555555554444", BrandMastercard},
		{"mastercard 51", "5105105105105100", BrandMastercard},
		{"mastercard 2-series", "2223003122003222", BrandMastercard},
		{"amex 37", "378282246310005", BrandAmex},
		{"amex 34", "340000000000009", BrandAmex},
		{"discover 6011", "6011111111111117", BrandDiscover},
		{"discover 6011 b", "6011000990139424", BrandDiscover},
		{"jcb", "3530111333300000", BrandJCB},
		{"jcb b", "3566002020360505", BrandJCB},
		{"diners 14 300", "30569309025904", BrandDiners},
		{"diners 14 38", "38520000023237", BrandDiners},
		{"diners 14 36", "36227206271667", BrandDiners},
		{"unionpay", "6200000000000005", BrandUnionPay},
		{"unionpay luhn-failing", "6212345678901234", BrandUnionPay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "my card is " + tt.pan + " thanks"
			got, res := m.Mask(in)
			want := "my card is " + maskedDigits(tt.pan, ModeBINLast4) + " thanks"
			if got != want {
				t.Errorf("Mask(%q) = %q, want %q", in, got, want)
			}
			if len(res.Matches) != 1 {
				t.Fatalf("got %d matches, want 1", len(res.Matches))
			}
			mt := res.Matches[0]
			if mt.Brand != tt.brand || mt.Digits != len(tt.pan) || mt.Start != 11 || mt.End != 11+len(tt.pan) {
				t.Errorf("got match %+v, want brand %v, %d digits at [11,%d)", mt, tt.brand, len(tt.pan), 11+len(tt.pan))
			}
			if b, ok := Classify(tt.pan); !ok || b != tt.brand {
				t.Errorf("Classify(%q) = %v, %v; want %v, true", tt.pan, b, ok, tt.brand)
			}
		})
	}
}

func TestEveryBrandAndLength(t *testing.T) {
	for _, mode := range []Mode{ModeBINLast4, ModeLast4} {
		m := newMasker(t, Options{Mode: mode})
		for _, row := range IINTable() {
			for n := MinDigits; n <= MaxDigits; n++ {
				for _, p := range []int{row.Low, row.High} {
					prefix := fmt.Sprintf("%0*d", row.Digits, p)
					digits := luhnComplete(prefix, n, n*p)
					name := fmt.Sprintf("%v/%s/%s/%d", mode, row.Brand, prefix, n)
					t.Run(name, func(t *testing.T) {
						in := "pay " + digits + "."
						got, res := m.Mask(in)
						if !row.Lengths.Has(n) {
							if got != in || res.Found() {
								t.Errorf("Mask(%q) = %q, want it untouched (length %d not in table)", in, got, n)
							}
							return
						}
						want := "pay " + maskedDigits(digits, mode) + "."
						if got != want {
							t.Errorf("Mask(%q) = %q, want %q", in, got, want)
						}
						if len(res.Matches) != 1 || res.Matches[0].Brand != row.Brand {
							t.Errorf("got matches %+v, want one %v", res.Matches, row.Brand)
						}
						if row.Luhn {
							bad := breakLuhn(digits)
							if got, _ := m.Mask(bad); got != bad {
								t.Errorf("Mask(%q) = %q, want Luhn-failing number untouched", bad, got)
							}
						}
					})
				}
			}
		}
	}
}

func TestIINTableRowsDoNotOverlap(t *testing.T) {
	rows := IINTable()
	// Expand every row to 4-digit prefixes and look for a prefix and
	// length claimed twice.
	seen := map[string]Brand{}
	for _, row := range rows {
		scale := 1
		for range 4 - row.Digits {
			scale *= 10
		}
		for p := row.Low * scale; p < (row.High+1)*scale; p++ {
			for n := MinDigits; n <= MaxDigits; n++ {
				if !row.Lengths.Has(n) {
					continue
				}
				key := fmt.Sprintf("%04d/%d", p, n)
				if b, dup := seen[key]; dup {
					t.Errorf("prefix %s claimed by %v and %v", key, b, row.Brand)
				}
				seen[key] = row.Brand
			}
		}
	}
	rows[0].Brand = BrandUnknown
	if IINTable()[0].Brand != BrandVisa {
		t.Errorf("IINTable returned the table itself, want a copy")
	}
}

func TestSeparators(t *testing.T) {
	m := newMasker(t, Options{})
	const pan = "4111111111111111"
	for _, sep := range []string{" ", "-", ".", "/", "\u00A0", "\u202F", "\u2009", "\u2007", "\u3000",
		"\u2010", "\u2011", "\u2012", "\u2013", "\u2212", "\uFF0D", "\uFF0E", "\uFF0F"} {
		t.Run(fmt.Sprintf("%U", []rune(sep)[0]), func(t *testing.T) {
			for _, sizes := range [][]int{{4, 4, 4, 4}, {4, 6, 6}, {8, 8}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}} {
				in := "card: " + group(pan, sep, sizes...) + " ok"
				want := "card: " + group(maskedDigits(pan, ModeBINLast4), sep, sizes...) + " ok"
				if got := m.MaskString(in); got != want {
					t.Errorf("MaskString(%q) = %q, want %q", in, got, want)
				}
			}
			doubled := group(pan, sep+sep, 4, 4, 4, 4)
			if got := m.MaskString(doubled); got != doubled {
				t.Errorf("MaskString(%q) = %q, want untouched (two separators in a row)", doubled, got)
			}
		})
	}
}

func TestMixedSeparatorFamilies(t *testing.T) {
	m := newMasker(t, Options{})
	tests := []struct{ name, in, want string }{
		{"space and no-break space are one family", "4111 1111\u00A01111\u20091111", "4111 11••\u00A0••••\u20091111"},
		{"hyphen and en dash are one family", "4111-1111\u20131111-1111", "4111-11••\u2013••••-1111"},
		{"space and hyphen", "4111 1111-1111 1111", "4111 1111-1111 1111"},
		{"dot and space (a date and a time)", "30.01.2024 10.15.30", "30.01.2024 10.15.30"},
		{"card then expiry with another separator", "4111 1111 1111 1111/12/26", "4111 11•• •••• 1111/••/••"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.MaskString(tt.in); got != tt.want {
				t.Errorf("MaskString(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestUnicodeDigits(t *testing.T) {
	m := newMasker(t, Options{})
	const pan = "5555555555554444"
	scripts := []struct {
		name string
		zero rune
	}{
		{"full-width", '０'}, {"arabic-indic", '٠'}, {"extended arabic-indic", '۰'}, {"devanagari", '०'},
		{"bengali", '০'}, {"thai", '๐'}, {"tibetan", '༠'}, {"myanmar", '၀'}, {"mathematical bold", '𝟎'},
		{"mathematical monospace", '𝟶'}, {"segmented", '🯰'},
	}
	for _, sc := range scripts {
		t.Run(sc.name, func(t *testing.T) {
			in := "n° " + toScript(group(pan, " ", 4, 4, 4, 4), sc.zero) + "!"
			want := "n° " + toScript(group(maskedDigits(pan, ModeBINLast4), " ", 4, 4, 4, 4), sc.zero) + "!"
			got, res := m.Mask(in)
			if got != want {
				t.Errorf("Mask(%q) = %q, want %q", in, got, want)
			}
			if len(res.Matches) != 1 || res.Matches[0].Brand != BrandMastercard {
				t.Errorf("got %+v, want one mastercard", res.Matches)
			}
		})
	}
	t.Run("mixed scripts", func(t *testing.T) {
		in := "４111 ٥٥٥5 1111 ١١١١"
		in = "4" + toScript("111", '０') + " " + toScript("1111", '٠') + " 1111 " + toScript("1111", '०')
		want := "4" + toScript("111", '０') + " " + toScript("11", '٠') + "•• •••• " + toScript("1111", '०')
		if got := m.MaskString(in); got != want {
			t.Errorf("MaskString(%q) = %q, want %q", in, got, want)
		}
	})
}

func TestInvisibleCharacters(t *testing.T) {
	m := newMasker(t, Options{})
	const pan = "378282246310005"
	for _, inv := range []string{"\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u00AD", "\u2063", "\uFE0F\u20E3"} {
		t.Run(fmt.Sprintf("%U", []rune(inv)[0]), func(t *testing.T) {
			in := interleave(pan, inv)
			want := interleave(maskedDigits(pan, ModeBINLast4), inv)
			if got := m.MaskString(in); got != want {
				t.Errorf("MaskString(%q) = %q, want %q", in, got, want)
			}
			grouped := interleave("3782", inv) + " " + interleave("822463", inv) + inv + " " + inv + "10005"
			wantGrouped := interleave("3782", inv) + " " + interleave("82••••", inv) + inv + " " + inv + "•0005"
			if got := m.MaskString(grouped); got != wantGrouped {
				t.Errorf("MaskString(%q) = %q, want %q", grouped, got, wantGrouped)
			}
		})
	}
	t.Run("too many invisible characters break the number", func(t *testing.T) {
		in := "4111" + strings.Repeat("\u200B", maxGapIgnorables+1) + "111111111111"
		if got := m.MaskString(in); got != in {
			t.Errorf("MaskString(%q) = %q, want untouched", in, got)
		}
	})
}

func TestNegativesUntouched(t *testing.T) {
	m := newMasker(t, Options{})
	tests := []struct{ name, in string }{
		{"no digits", "Hello, how can I help you today?"},
		{"short numbers", "I have 3 cats and 12 dogs, order 12345."},
		{"phone international", "Call me on +49 1512 3456789 or +44 20 7946 0958"},
		{"phone with plus and 15 digits", "+4111 1111 1111 1"},
		{"phone us", "(555) 123-4567, 1-800-555-0199"},
		{"date and time", "2024-01-15 12:30:45, 15.01.2024 23:59, 01/15/2024"},
		{"luhn failing visa", "4111 1111 1111 1112"},
		{"luhn valid no iin", "7111 1111 1111 1114, 1234567812345670"},
		{"long digit run", "ref 41111111111111111111111111"},
		{"twenty digits", "41111111111111111234"},
		{"visa of length 17", "41111111111111113"},
		{"iban", "DE89 3704 0044 0532 0130 00"},
		{"uuid", "123e4567-e89b-12d3-a456-426614174000"},
		{"decimal amounts", "1,234,567.89 and 4.111.111"},
		{"mastercard of length 15", "555555555555444"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, res := m.Mask(tt.in)
			if got != tt.in || res.Found() {
				t.Errorf("Mask(%q) = %q, %+v; want untouched", tt.in, got, res)
			}
			if Contains(tt.in) {
				t.Errorf("Contains(%q) = true, want false", tt.in)
			}
		})
	}
}

func TestEmbeddedAndAdjacentNumbers(t *testing.T) {
	m := newMasker(t, Options{ContextRunes: -1})
	tests := []struct{ name, in, want string }{
		{"glued to letters", "card4111111111111111x", "card411111••••••1111x"},
		{"after a reference group", "12 4111 1111 1111 1111", "12 4111 11•• •••• 1111"},
		{"after a long run", "12345678901234567890 4111111111111111", "12345678901234567890 411111••••••1111"},
		{"two cards in one run", "4111 1111 1111 1111 5555 5555 5555 4444", "4111 11•• •••• 1111 5555 55•• •••• 4444"},
		{"two cards, plain", "4111111111111111,5555555555554444", "411111••••••1111,555555••••••4444"},
		{"amex grouped 4-6-5", "3782 822463 10005", "3782 82•••• •0005"},
		{"visa 13", "4222222222222", "4222•••••2222"},
		{"diners 14", "3056 9309 0259 04", "3056 9••• ••59 04"},
		{"phone prefix does not protect 16 digits", "+4111111111111111", "+411111••••••1111"},
		{"newline separates", "4111 1111\n1111 1111", "4111 1111\n1111 1111"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.MaskString(tt.in); got != tt.want {
				t.Errorf("MaskString(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOverlappingCardsAreBothMasked(t *testing.T) {
	// Two Visa numbers sharing a group: every window's middle digits must
	// be masked, not only the first one's.
	a := luhnComplete("4", 16, 7)
	var b string
	for seed := 0; ; seed++ {
		b = luhnComplete("4"+a[13:16], 16, seed)
		if _, ok := refBrand(a[4:16] + b[4:8]); !ok {
			break
		}
	}
	in := group(a, " ", 4, 4, 4, 4) + " " + group(b[4:], " ", 4, 4, 4)
	wins, _ := refFind(in)
	if len(wins) < 2 {
		t.Skipf("setup produced %d windows", len(wins))
	}
	m := newMasker(t, Options{ContextRunes: -1})
	out := m.MaskString(in)
	flags, ok := refMaskedFlags(in, out, "•")
	if !ok {
		t.Fatalf("MaskString(%q) = %q changed more than digits", in, out)
	}
	for _, w := range wins {
		n := w.last - w.first + 1
		for k := refKeepFront(ModeBINLast4, n); k < n-4; k++ {
			if !flags[w.first+k] {
				t.Errorf("MaskString(%q) = %q leaves digit %d of the card at digit %d readable", in, out, k, w.first)
			}
		}
	}
}

func TestModes(t *testing.T) {
	tests := []struct {
		mode     Mode
		mask     rune
		in, want string
	}{
		{ModeBINLast4, 0, "4111 1111 1111 1111", "4111 11•• •••• 1111"},
		{ModeLast4, 0, "4111 1111 1111 1111", "•••• •••• •••• 1111"},
		{ModeLast4, 'X', "4111-1111-1111-1111", "XXXX-XXXX-XXXX-1111"},
		{ModeBINLast4, '*', "５５５５５５５５５５５５４４４４", "５５５５５５******４４４４"},
		{ModeBINLast4, '#', "378282246310005", "378282#####0005"},
		{ModeLast4, '#', "4222222222222", "#########2222"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%q", tt.mode, tt.in), func(t *testing.T) {
			m := newMasker(t, Options{Mode: tt.mode, MaskRune: tt.mask})
			if got := m.MaskString(tt.in); got != tt.want {
				t.Errorf("MaskString(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for _, mode := range []Mode{ModeBINLast4, ModeLast4} {
		got, err := ParseMode(mode.String())
		if err != nil || got != mode {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", mode.String(), got, err, mode)
		}
	}
	if _, err := ParseMode("full"); !errors.Is(err, ErrInvalidMode) {
		t.Errorf("ParseMode(full) error = %v, want ErrInvalidMode", err)
	}
}

func TestNewMaskerRejects(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want error
	}{
		{"digit mask", Options{MaskRune: '7'}, ErrInvalidMaskRune},
		{"full-width digit mask", Options{MaskRune: '７'}, ErrInvalidMaskRune},
		{"separator mask", Options{MaskRune: '-'}, ErrInvalidMaskRune},
		{"space mask", Options{MaskRune: ' '}, ErrInvalidMaskRune},
		{"invisible mask", Options{MaskRune: '\u200B'}, ErrInvalidMaskRune},
		{"control mask", Options{MaskRune: '\n'}, ErrInvalidMaskRune},
		{"invalid rune", Options{MaskRune: 0xD800}, ErrInvalidMaskRune},
		{"replacement char", Options{MaskRune: utf8.RuneError}, ErrInvalidMaskRune},
		{"superscript digit", Options{MaskRune: '²'}, ErrInvalidMaskRune},
		{"mode", Options{Mode: 9}, ErrInvalidMode},
		{"context too wide", Options{ContextRunes: MaxContextRunes + 1}, ErrInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewMasker(tt.o); !errors.Is(err, tt.want) {
				t.Errorf("NewMasker(%+v) error = %v, want %v", tt.o, err, tt.want)
			}
		})
	}
}

func TestMaskLeavesOtherBytes(t *testing.T) {
	m := newMasker(t, Options{})
	in := "\xff\xfe 4111111111111111 \x00\x80 caf\xc3\xa9 \xe2\x82"
	want := "\xff\xfe 411111••••••1111 \x00\x80 caf\xc3\xa9 \xe2\x82"
	if got := m.MaskString(in); got != want {
		t.Errorf("MaskString(%q) = %q, want %q", in, got, want)
	}
}

func TestMaskReturnsInputWhenNothingFound(t *testing.T) {
	m := newMasker(t, Options{})
	for _, in := range []string{"", "hello", "order 12345 on 2024-01-02", strings.Repeat("9", 40)} {
		got, res := m.Mask(in)
		if got != in || res.Found() || res.Matches != nil || res.Context != nil {
			t.Errorf("Mask(%q) = %q, %+v; want input and empty result", in, got, res)
		}
	}
}

func TestMaskFragments(t *testing.T) {
	m := newMasker(t, Options{})
	text := "card 4111 1111 and more"
	tests := []struct {
		name string
		f    Fragment
		want string
	}{
		{"all digits", Fragment{Start: 5, End: 14}, "card •••• •••• and more"},
		{"keep front and back", Fragment{Start: 5, End: 14, KeepFront: 2, KeepBack: 3}, "card 41•• •111 and more"},
		{"out of range is clamped", Fragment{Start: -5, End: 500}, "card •••• •••• and more"},
		{"inverted is empty", Fragment{Start: 14, End: 5}, text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.MaskFragments(text, []Fragment{tt.f}); got != tt.want {
				t.Errorf("MaskFragments(%q, %+v) = %q, want %q", text, tt.f, got, tt.want)
			}
		})
	}
}

func TestFindAndContains(t *testing.T) {
	in := "a 4111-1111-1111-1111 b ３７８２８２２４６３１０００５ c"
	got := Find(in)
	want := []Match{
		{Start: 2, End: 21, Brand: BrandVisa, Digits: 16},
		{Start: 24, End: 24 + 15*3, Brand: BrandAmex, Digits: 15},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Find(%q) = %+v, want %+v", in, got, want)
	}
	if !Contains(in) {
		t.Errorf("Contains(%q) = false, want true", in)
	}
	if got := Find("nothing here 123"); got != nil {
		t.Errorf("Find without card = %+v, want nil", got)
	}
	buf := make([]Match, 0, 4)
	if got := AppendMatches(buf, in); len(got) != 2 || &got[0] != &buf[:1][0] {
		t.Errorf("AppendMatches did not reuse dst")
	}
}

func TestBrandAndKindNames(t *testing.T) {
	names := map[string]bool{}
	for b := BrandUnknown; b <= BrandUnionPay; b++ {
		names[b.String()] = true
	}
	if len(names) != 8 {
		t.Errorf("got %d distinct brand names, want 8", len(names))
	}
	if SpanExpiry.String() != "expiry" || SpanCode.String() != "code" || SpanKind(0).String() != "unknown" {
		t.Errorf("unexpected span kind names")
	}
}

func TestLuhnValid(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"4111111111111111", true}, {"4111111111111112", false}, {"0", true}, {"", false}, {"79927398713", true}, {"4111-1111", false},
	}
	for _, tt := range tests {
		if got := LuhnValid(tt.in); got != tt.want {
			t.Errorf("LuhnValid(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNdTableShape(t *testing.T) {
	// ndValue relies on every range of unicode.Nd holding whole blocks of
	// ten digits that start at zero.
	for r := rune(0x80); r <= 0x10FFFF; r++ {
		got := ndValue(r)
		if isDigitRef := refKind(r) == 'd'; isDigitRef != (got >= 0) {
			t.Fatalf("ndValue(%U) = %d, want digit=%v", r, got, isDigitRef)
		}
		if got >= 0 && got != refValue(r) {
			t.Fatalf("ndValue(%U) = %d, want %d", r, got, refValue(r))
		}
	}
}

func TestNoAllocationsWithoutCards(t *testing.T) {
	m := newMasker(t, Options{})
	for _, in := range []string{chatNoDigits, chatText, cjkText, digitHeavyText, "order 58213, call +49 1512 3456789"} {
		if a := testing.AllocsPerRun(50, func() { m.Mask(in) }); a != 0 {
			t.Errorf("Mask allocates %.0f times on %.20q…, want 0", a, in)
		}
		if a := testing.AllocsPerRun(50, func() { Contains(in) }); a != 0 {
			t.Errorf("Contains allocates %.0f times, want 0", a)
		}
	}
	buf := make([]Match, 0, 8)
	withCard := "pay 4111 1111 1111 1111 now"
	if a := testing.AllocsPerRun(50, func() { AppendMatches(buf[:0], withCard) }); a != 0 {
		t.Errorf("AppendMatches with capacity allocates %.0f times, want 0", a)
	}
}

func TestMaskLast4(t *testing.T) {
	tests := []struct{ in, want string }{
		{"card 4111 1111 1111 1111 please", "card •••• •••• •••• 1111 please"},
		{"4111111111111111", "••••••••••••1111"},
		{"no card 1234", "no card 1234"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskLast4(tt.in); got != tt.want {
			t.Errorf("MaskLast4(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if Contains(MaskLast4(tt.in)) {
			t.Errorf("MaskLast4(%q) still holds a card number", tt.in)
		}
	}
}

package pan

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// corpusCase is one generated input and the exact output expected.
type corpusCase struct {
	name    string
	in      string
	want    string
	mode    Mode
	brand   Brand // for positives
	digits  int   // for positives
	isCards bool
}

// The generator writes card numbers from their parts so that the expected
// output is built from the same parts with the masked digits, never by
// running the code under test.

var (
	corpusSeparators = []string{" ", "-", ".", "/", "\u00A0", "\u202F", "\u2009", "\u2013", "\uFF0D"}
	corpusZeros      = []rune{'0', '0', '0', '０', '٠', '۰', '०', '০', '๐', '𝟎'}
	corpusInvisibles = []string{"\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u00AD"}
	corpusBefore     = []string{"", "my card is ", "Card: ", "here you go: ", "pay with ", "numéro de carte ", "カード番号は", "رقم البطاقة ", "(", "«", "card="}
	corpusAfter      = []string{"", " thanks", ".", "!", " please charge it", " 😊", ")", "»", ", ok?", "\n"}
	corpusLayouts    = [][]int{{4, 4, 4, 4, 4}, {4, 6, 5, 4}, {4, 6, 4, 5}, {19}, {6, 4, 3, 3, 3}, {2, 2, 2, 2, 2, 2, 2, 2, 2, 2}}
)

// formatCard lays out runes (digits or '•') in groups with sep, writes the
// digits in the script of zero and puts inv between some neighbours.
func formatCard(rs []rune, layout []int, sep string, zero rune, inv string, invAt map[int]bool) string {
	var b strings.Builder
	k, g := 0, 0
	for i, r := range rs {
		if i > 0 {
			if k == layout[g%len(layout)] {
				b.WriteString(sep)
				k = 0
				g++
			} else if invAt[i] {
				b.WriteString(inv)
			}
		}
		if r >= '0' && r <= '9' {
			r = zero + (r - '0')
		}
		b.WriteRune(r)
		k++
	}
	return b.String()
}

// maskRunes returns the digits of a card number with the masked ones
// replaced by '•'.
func maskRunes(digits string, mode Mode) []rune {
	return []rune(maskedDigits(digits, mode))
}

func generatePositives(rng *rand.Rand) []corpusCase {
	var cases []corpusCase
	rows := IINTable()
	for ri, row := range rows {
		for n := MinDigits; n <= MaxDigits; n++ {
			if !row.Lengths.Has(n) {
				continue
			}
			for v := range 60 {
				p := row.Low + rng.IntN(row.High-row.Low+1)
				digits := luhnComplete(fmt.Sprintf("%0*d", row.Digits, p), n, rng.IntN(1<<30))
				mode := Mode(v % 2)
				layout := corpusLayouts[rng.IntN(len(corpusLayouts))]
				sep := corpusSeparators[rng.IntN(len(corpusSeparators))]
				zero := corpusZeros[rng.IntN(len(corpusZeros))]
				inv := ""
				invAt := map[int]bool{}
				if v%3 == 0 {
					inv = corpusInvisibles[rng.IntN(len(corpusInvisibles))]
					for range 1 + rng.IntN(4) {
						invAt[1+rng.IntN(n-1)] = true
					}
				}
				before := corpusBefore[rng.IntN(len(corpusBefore))]
				after := corpusAfter[rng.IntN(len(corpusAfter))]
				cases = append(cases, corpusCase{
					name:    fmt.Sprintf("positive/%d/%s/%d/%d", ri, row.Brand, n, v),
					in:      before + formatCard([]rune(digits), layout, sep, zero, inv, invAt) + after,
					want:    before + formatCard(maskRunes(digits, mode), layout, sep, zero, inv, invAt) + after,
					mode:    mode,
					brand:   row.Brand,
					digits:  n,
					isCards: true,
				})
			}
		}
	}
	return cases
}

// digitsOf returns n pseudo-random ASCII digits.
func digitsOf(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

func generateNegatives(rng *rand.Rand) []corpusCase {
	type gen struct {
		kind string
		fn   func() string
	}
	countries := []string{"1", "33", "44", "49", "61", "81", "86", "91", "353", "972", "380"}
	ibanCountries := []string{"DE", "FR", "GB", "NL", "ES", "IT", "CH", "PL"}
	noIIN := []string{"0", "1", "7", "8", "9", "2000", "2100", "2220", "2721", "2999", "31", "33", "306", "309", "3500", "3527", "3590", "50", "56", "59", "60", "63", "640", "643", "66", "69"}
	gens := []gen{
		{"phone international", func() string {
			cc := countries[rng.IntN(len(countries))]
			rest := digitsOf(rng, 15-len(cc)-rng.IntN(5))
			return "+" + cc + " " + group(rest, []string{" ", "-", "."}[rng.IntN(3)], 3, 3, 4, 4)
		}},
		{"phone national", func() string {
			return fmt.Sprintf("(%s) %s-%s", digitsOf(rng, 3), digitsOf(rng, 3), digitsOf(rng, 4))
		}},
		{"phone with trunk zero", func() string {
			return "0" + digitsOf(rng, 3) + " " + digitsOf(rng, 4) + " " + digitsOf(rng, 4+rng.IntN(3))
		}},
		{"order number", func() string {
			return []string{"ORD-", "#", "order ", "INV/", "Ticket "}[rng.IntN(5)] + digitsOf(rng, 5+rng.IntN(7))
		}},
		{"order number with year", func() string {
			return fmt.Sprintf("ORD-%d-%s", 2000+rng.IntN(30), digitsOf(rng, 6))
		}},
		{"date and time", func() string {
			t := time.Date(1990+rng.IntN(60), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), 0, time.UTC)
			layouts := []string{time.RFC3339, "2006-01-02 15:04:05", "02.01.2006 15:04", "01/02/2006 3:04 PM", "2006/01/02 15:04:05", "02.01.2006 15.04.05", "Jan 2, 2006 at 15:04", time.RFC1123}
			return t.Format(layouts[rng.IntN(len(layouts))])
		}},
		{"iban-like", func() string {
			return ibanCountries[rng.IntN(len(ibanCountries))] + digitsOf(rng, 2) + " " + group(digitsOf(rng, 14+rng.IntN(10)), " ", 4, 4, 4, 4, 4, 4)
		}},
		{"luhn-failing card", func() string {
			rows := IINTable()
			row := rows[rng.IntN(len(rows)-1)] // the last row, UnionPay, needs no Luhn
			var n int
			for n = MinDigits + rng.IntN(7); !row.Lengths.Has(n); n = MinDigits + rng.IntN(7) {
			}
			digits := breakLuhn(luhnComplete(fmt.Sprintf("%0*d", row.Digits, row.Low), n, rng.IntN(1<<30)))
			return group(digits, corpusSeparators[rng.IntN(len(corpusSeparators))], 4, 4, 4, 4)
		}},
		{"luhn-valid without iin", func() string {
			digits := luhnComplete(noIIN[rng.IntN(len(noIIN))], MinDigits+rng.IntN(7), rng.IntN(1<<30))
			return group(digits, corpusSeparators[rng.IntN(len(corpusSeparators))], 4, 4, 4, 4)
		}},
		{"long digit run", func() string {
			return luhnComplete("4", 20+rng.IntN(30), rng.IntN(1<<30))
		}},
		{"long run containing a card", func() string {
			return digitsOf(rng, 1+rng.IntN(5)) + luhnComplete("4", 16, rng.IntN(1<<30)) + digitsOf(rng, 1+rng.IntN(5))
		}},
		{"amounts", func() string {
			return fmt.Sprintf("$%d,%03d,%03d.%02d", rng.IntN(999), rng.IntN(1000), rng.IntN(1000), rng.IntN(100))
		}},
		{"card split by two separators", func() string {
			return group(luhnComplete("4", 16, rng.IntN(1<<30)), "  ", 4, 4, 4, 4)
		}},
		{"card with mixed separators", func() string {
			d := luhnComplete("5", 16, rng.IntN(1<<30))
			return d[:4] + " " + d[4:8] + "-" + d[8:12] + " " + d[12:]
		}},
	}
	var cases []corpusCase
	for gi, g := range gens {
		for v := 0; v < 250; {
			text := corpusBefore[rng.IntN(len(corpusBefore))] + g.fn() + corpusAfter[rng.IntN(len(corpusAfter))]
			if wins, _ := refFind(text); len(wins) > 0 {
				continue // by chance a card number: not a negative
			}
			cases = append(cases, corpusCase{name: fmt.Sprintf("negative/%d/%s/%d", gi, g.kind, v), in: text, want: text, mode: Mode(v % 2)})
			v++
		}
	}
	return cases
}

func TestGeneratedCorpus(t *testing.T) {
	rng := rand.New(rand.NewPCG(2025, 331))
	cases := append(generatePositives(rng), generateNegatives(rng)...)
	if len(cases) < 4000 {
		t.Fatalf("generated %d cases, want thousands", len(cases))
	}
	maskers := map[Mode]*Masker{
		ModeBINLast4: newMasker(t, Options{Mode: ModeBINLast4}),
		ModeLast4:    newMasker(t, Options{Mode: ModeLast4}),
	}
	failures := 0
	for _, c := range cases {
		got, res := maskers[c.mode].Mask(c.in)
		ok := got == c.want
		if c.isCards {
			ok = ok && len(res.Matches) == 1 && res.Matches[0].Brand == c.brand && res.Matches[0].Digits == c.digits
		} else {
			ok = ok && !res.Found()
		}
		if !ok {
			failures++
			if failures <= 20 {
				t.Errorf("%s: Mask(%q) = %q, %+v; want %q", c.name, c.in, got, res.Matches, c.want)
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d generated cases failed", failures, len(cases))
	}
}

func TestGeneratedSplitCorpus(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	rows := IINTable()
	cases := 0
	for cases < 1000 {
		row := rows[rng.IntN(len(rows))]
		var n int
		for n = MinDigits + rng.IntN(7); !row.Lengths.Has(n); n = MinDigits + rng.IntN(7) {
		}
		digits := luhnComplete(fmt.Sprintf("%0*d", row.Digits, row.Low+rng.IntN(row.High-row.Low+1)), n, rng.IntN(1<<30))
		// Cut into 2–4 non-empty parts.
		parts := 2 + rng.IntN(3)
		cuts := map[int]bool{}
		for len(cuts) < parts-1 {
			cuts[1+rng.IntN(n-1)] = true
		}
		mode := Mode(rng.IntN(2))
		masked := maskRunes(digits, mode)
		var msgs, wants []string
		start := 0
		for i := 1; i <= n; i++ {
			if i == n || cuts[i] {
				layout := []int{4}
				msgs = append(msgs, formatCard([]rune(digits[start:i]), layout, " ", '0', "", nil))
				wants = append(wants, formatCard(masked[start:i], layout, " ", '0', "", nil))
				start = i
			}
		}
		// Only cases where no single part, and no other combination, is
		// itself a card number are exact.
		joined := strings.Join(msgs, string(refMarker))
		wins, _ := refFindJoined(joined)
		if len(wins) != 1 {
			continue
		}
		single := false
		for _, msg := range msgs {
			if w, _ := refFind(msg); len(w) > 0 {
				single = true
			}
		}
		if single {
			continue
		}
		cases++
		m := newMasker(t, Options{Mode: mode})
		d, err := NewSplitDetector(m, SplitOptions{Now: func() time.Time { return time.Unix(0, 0) }})
		if err != nil {
			t.Fatal(err)
		}
		stored := make([]string, len(msgs))
		for i, msg := range msgs {
			out, res := d.Mask("v", fmt.Sprint(i), msg)
			stored[i] = out
			for _, f := range res.Previous {
				var j int
				fmt.Sscan(f.MessageID, &j)
				stored[j] = m.MaskFragments(stored[j], []Fragment{f})
			}
		}
		for i := range msgs {
			if stored[i] != wants[i] {
				t.Errorf("%v split %q: stored part %d = %q, want %q (all: %q)", row.Brand, digits, i, stored[i], wants[i], stored)
				break
			}
		}
	}
}

package pan_test

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/parleyhq/parley/compliance/pan"
)

func ExampleMasker_Mask() {
	m, err := pan.NewMasker(pan.Options{Mode: pan.ModeBINLast4})
	if err != nil {
		panic(err)
	}
	out, res := m.Mask("my card is 4111 1111 1111 1111, exp 12/26, cvv 123")
	fmt.Println(out)
	fmt.Println(res.Matches[0].Brand, res.Matches[0].Digits, len(res.Context))
	// Output:
	// my card is 4111 11•• •••• 1111, exp ••/••, cvv •••
	// visa 16 2
}

func ExampleSplitDetector_Mask() {
	m, _ := pan.NewMasker(pan.Options{Mode: pan.ModeLast4, MaskRune: 'X'})
	d, _ := pan.NewSplitDetector(m, pan.SplitOptions{})
	first, _ := d.Mask("visitor-1", "msg-1", "5555 5555")
	second, res := d.Mask("visitor-1", "msg-2", "5555 4444")
	fmt.Println(first, "|", second)
	// The first message was already delivered: mask its stored copy.
	fmt.Println(m.MaskFragments(first, res.Previous))
	// Output:
	// 5555 5555 | XXXX 4444
	// XXXX XXXX
}

func ExampleRedactStream() {
	in := strings.NewReader("2025-03-31 visitor wrote 378282246310005\nnothing here\n")
	if err := pan.RedactStream(in, os.Stdout, pan.StreamOptions{}); err != nil {
		panic(err)
	}
	// Output:
	// 2025-03-31 visitor wrote 378282•••••0005
	// nothing here
}

func ExampleNewHandler() {
	m, _ := pan.NewMasker(pan.Options{Mode: pan.ModeLast4})
	h := pan.NewHandler(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // stable output for the example
			}
			return a
		},
	}), m)
	slog.New(h).Info("visitor message", "text", "card 4111111111111111 exp 12/26")
	// Output:
	// level=INFO msg="visitor message" text="card ••••••••••••1111 exp ••/••"
}

func ExampleFind() {
	for _, mt := range pan.Find("a 5555-5555-5555-4444 and a ３７８２ ８２２４６３ １０００５") {
		fmt.Println(mt.Brand, mt.Digits, mt.Start, mt.End)
	}
	// Output:
	// mastercard 16 2 21
	// amex 15 28 75
}

package pan_test

import (
	"fmt"
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

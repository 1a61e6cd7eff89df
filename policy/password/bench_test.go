package password

import (
	"bytes"
	"testing"
)

func BenchmarkEvaluate(b *testing.B) {
	cases := []struct {
		name, pw string
	}{
		{"acceptable", "Tr0ub4dor&3x-violet"},
		{"common", "qwerty123456"},
		{"unicode", "Ｔｒ０ｕｂ４ｄｏｒ＆３ｘ-ｖｉｏｌｅｔ"},
		{"over the byte cap", string(bytes.Repeat([]byte("a"), 4*MaxBytes))},
	}
	e := mustEvaluator(b, PCIDSS4())
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Evaluate(c.pw, alice); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNormalize(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Normalize("Ｔｒ０ｕｂ４ｄｏｒ＆３ｘ-ｖｉｏｌｅｔ"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewBlocklist(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if NewBlocklist().Len() == 0 {
			b.Fatal("empty blocklist")
		}
	}
}

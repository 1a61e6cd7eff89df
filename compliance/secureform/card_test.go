package secureform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/parleyhq/parley/compliance/pan"
)

// TestCardNeverPrints formats, marshals and logs cards and reveals every way the standard
// library offers and looks for the number, the code and the name in the output.
func TestCardNeverPrints(t *testing.T) {
	c := mustCard(t, "4111 1111 1111 1111", "12/28", "987", "Ada Lovelace")
	defer c.Wipe()
	r, _ := revealOf(c)
	defer r.Wipe()
	type holder struct {
		Card   *Card
		Reveal *Reveal
	}
	h := holder{Card: c, Reveal: r}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, r), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &h))
	}
	outputs = append(outputs, fmt.Sprint(c, r), fmt.Sprintln(c, r), c.String(), r.GoString())
	for _, v := range []any{c, r, h, map[string]any{"card": c}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		outputs = append(outputs, string(b))
	}
	txt, _ := c.MarshalText()
	outputs = append(outputs, string(txt))
	var logs bytes.Buffer
	// The records' time is left out: its digits are the clock's, not the card's, and may hold any
	// run of digits the check below looks for.
	noTime := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}
	for _, hd := range []slog.Handler{slog.NewJSONHandler(&logs, noTime), slog.NewTextHandler(&logs, noTime)} {
		l := slog.New(hd)
		l.Info("card", "card", c, "reveal", r, "holder", h, slog.Any("any", c), slog.Group("g", "c", c))
		l.Error("failed", "err", fmt.Errorf("wrapped: %v", c))
	}
	outputs = append(outputs, logs.String())
	err := errors.New(fmt.Sprint("x", c))
	outputs = append(outputs, err.Error())
	for _, out := range outputs {
		for _, secret := range []string{"4111", "1111", "987", "Ada", "Lovelace", "12/28"} {
			if strings.Contains(out, secret) {
				t.Errorf("output %q contains %q", out, secret)
			}
		}
		if pan.Contains(out) {
			t.Errorf("output %q contains a card number", out)
		}
	}
}

func revealOf(c *Card) (*Reveal, error) {
	r := &Reveal{}
	r.d.copyFrom(&c.d)
	return r, nil
}

func TestRevealWriteJSON(t *testing.T) {
	c := mustCard(t, "3782 822463 10005", "3/29", "1234", `Zoë "Z" O\Neil`)
	r, _ := revealOf(c)
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("WriteJSON wrote invalid JSON %q: %v", b.String(), err)
	}
	want := map[string]string{"brand": "amex", "number": "378282246310005", "expiry": "03/29", "cvc": "1234", "name": `Zoë "Z" O\Neil`}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	r.Wipe()
	c.Wipe()
	if !zeroed(&r.d) || !zeroed(&c.d) {
		t.Error("Wipe left card data behind")
	}
}

func TestMaskedViews(t *testing.T) {
	tests := []struct {
		number string
		mode   pan.Mode
		want   string
	}{
		{"4111111111111111", pan.ModeBINLast4, "411111••••••1111"},
		{"4111111111111111", pan.ModeLast4, "••••••••••••1111"},
		{"378282246310005", pan.ModeBINLast4, "378282•••••0005"},
		{"4222222222222", pan.ModeBINLast4, "4222•••••2222"},
		{"6011000990139424", pan.ModeLast4, "••••••••••••9424"},
	}
	for _, tt := range tests {
		t.Run(tt.number+"/"+tt.mode.String(), func(t *testing.T) {
			cvc := "123"
			if strings.HasPrefix(tt.number, "37") {
				cvc = "1234"
			}
			c := mustCard(t, tt.number, "12/28", cvc, "Ada")
			defer c.Wipe()
			m := c.masked(tt.mode)
			if m.Number != tt.want {
				t.Errorf("masked number = %q, want %q", m.Number, tt.want)
			}
			// The masked view agrees with what compliance/pan shows in chat.
			masker, err := pan.NewMasker(pan.Options{Mode: tt.mode})
			if err != nil {
				t.Fatal(err)
			}
			if chat := masker.MaskString(tt.number); chat != m.Number {
				t.Errorf("chat masking %q differs from the form's %q", chat, m.Number)
			}
			b, _ := json.Marshal(m)
			if pan.Contains(string(b)) || strings.Contains(string(b), cvc) {
				t.Errorf("masked view %s holds card data", b)
			}
			if m.Expiry != "••/••" || len([]rune(m.CVC)) != len(cvc) || m.Name != "Ada" {
				t.Errorf("masked view = %+v", m)
			}
		})
	}
}

func TestMaskToken(t *testing.T) {
	tests := map[string]string{"tok_1234567890abcdef": "tok_…cdef", "abc123": "…23", "ab": "…"}
	for in, want := range tests {
		if got := MaskToken(in); got != want {
			t.Errorf("MaskToken(%q) = %q, want %q", in, got, want)
		}
	}
}

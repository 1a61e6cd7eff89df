package secureform

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/compliance/pan"
)

func TestParseSubmissionValid(t *testing.T) {
	tests := []struct {
		name, number, expiry, cvc, holder string
		brand                             pan.Brand
		last4                             string
	}{
		{"visa spaced", "4111 1111 1111 1111", "12/28", "123", "Ada Lovelace", pan.BrandVisa, "1111"},
		{"visa hyphens", "4111-1111-1111-1111", "01/2026", "123", "Ada", pan.BrandVisa, "1111"},
		{"visa 13 digits", "4222222222222", "0127", "123", "Ada", pan.BrandVisa, "2222"},
		{"mastercard 2-series", "2223003122003222", "12/30", "123", "Grace Hopper", pan.BrandMastercard, "3222"},
		{"mastercard 5-series", "5555555555554444", "6/27", "321", "Grace", pan.BrandMastercard, "4444"},
		{"amex with CID", "378282246310005", "03 / 29", "1234", "Alan Turing", pan.BrandAmex, "0005"},
		{"discover", "6011111111111117", "122028", "123", "Émilie du Châtelet", pan.BrandDiscover, "1117"},
		{"jcb", "3530111333300000", "12-28", "123", "山田 太郎", pan.BrandJCB, "0000"},
		{"diners", "30569309025904", "12/28", "123", "O'Brien-Smith", pan.BrandDiners, "5904"},
		{"unionpay without Luhn", "6200000000000001", "12/28", "123", "Li Wei", pan.BrandUnionPay, "0001"},
		{"this month", "4111111111111111", "01/26", "123", "Ada", pan.BrandVisa, "1111"},
		{"name trimmed", "4111111111111111", "12/28", "123", "  Ada  ", pan.BrandVisa, "1111"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseSubmission(form(tt.number, tt.expiry, tt.cvc, tt.holder), testNow)
			if err != nil {
				t.Fatalf("ParseSubmission: %v", err)
			}
			defer c.Wipe()
			if c.Brand() != tt.brand {
				t.Errorf("brand = %v, want %v", c.Brand(), tt.brand)
			}
			if got := c.Last4(); got != tt.last4 {
				t.Errorf("Last4 = %q, want %q", got, tt.last4)
			}
			if got, want := string(c.d.name[:c.d.namelen]), strings.TrimSpace(tt.holder); got != want {
				t.Errorf("name = %q, want %q", got, want)
			}
		})
	}
}

func TestParseSubmissionEscapes(t *testing.T) {
	body := []byte(`{"name":"J\u00fcrgen \"JJ\" M\u00fcller","cvc":"\u0031\u00323","expiry":"12\/28","number":"4111\u00201111 1111 1111"}`)
	c, err := ParseSubmission(body, testNow)
	if err != nil {
		t.Fatalf("ParseSubmission: %v", err)
	}
	if got, want := string(c.d.name[:c.d.namelen]), `Jürgen "JJ" Müller`; got != want {
		t.Errorf("name = %q, want %q", got, want)
	}
	if got := string(c.d.cvc[:c.d.clen]); got != "123" {
		t.Errorf("cvc = %q, want 123", got)
	}
}

func TestParseSubmissionInvalid(t *testing.T) {
	valid := map[string]string{"number": `"4111111111111111"`, "expiry": `"12/28"`, "cvc": `"123"`, "name": `"Ada"`}
	with := func(field, raw string) []byte {
		var parts []string
		for _, f := range []string{"number", "expiry", "cvc", "name"} {
			v := valid[f]
			if f == field {
				if raw == "" {
					continue
				}
				v = raw
			}
			parts = append(parts, `"`+f+`":`+v)
		}
		return []byte("{" + strings.Join(parts, ",") + "}")
	}
	tests := []struct {
		name  string
		body  []byte
		field string
	}{
		{"luhn fails", with("number", `"4111111111111112"`), FieldNumber},
		{"unknown IIN", with("number", `"9111111111111111"`), FieldNumber},
		{"too short", with("number", `"411111111111"`), FieldNumber},
		{"too long", with("number", `"41111111111111111111"`), FieldNumber},
		{"wrong length for brand", with("number", `"41111111111111"`), FieldNumber},
		{"letters", with("number", `"4111 1111 1111 111O"`), FieldNumber},
		{"dots", with("number", `"4111.1111.1111.1111"`), FieldNumber},
		{"empty number", with("number", `""`), FieldNumber},
		{"missing number", with("number", ""), FieldNumber},
		{"expired", with("expiry", `"12/25"`), FieldExpiry},
		{"month 13", with("expiry", `"13/28"`), FieldExpiry},
		{"month 0", with("expiry", `"00/28"`), FieldExpiry},
		{"too far ahead", with("expiry", `"12/2099"`), FieldExpiry},
		{"three-digit year", with("expiry", `"12/028"`), FieldExpiry},
		{"two separators", with("expiry", `"12/2/8"`), FieldExpiry},
		{"letters in expiry", with("expiry", `"Dec 28"`), FieldExpiry},
		{"missing expiry", with("expiry", ""), FieldExpiry},
		{"cvc too short", with("cvc", `"12"`), FieldCVC},
		{"cvc too long", with("cvc", `"12345"`), FieldCVC},
		{"cvc letters", with("cvc", `"12a"`), FieldCVC},
		{"4-digit cvc on visa", with("cvc", `"1234"`), FieldCVC},
		{"name with digits", with("name", `"Ada 4111"`), FieldName},
		{"name with Arabic-Indic digits", with("name", `"Ada ٤١١١"`), FieldName},
		{"name with a newline", with("name", `"Ada\nL"`), FieldName},
		{"name with a zero-width space", with("name", `"Ada\u200bL"`), FieldName},
		{"blank name", with("name", `"   "`), FieldName},
		{"name too long", with("name", `"`+strings.Repeat("a", 101)+`"`), FieldName},
		{"number not a string", with("number", `4111111111111111`), fieldBody},
		{"unknown field", []byte(`{"number":"4111111111111111","expiry":"12/28","cvc":"123","name":"Ada","pin":"1234"}`), fieldBody},
		{"duplicate field", []byte(`{"number":"4111111111111111","number":"4111111111111111","expiry":"12/28","cvc":"123","name":"Ada"}`), fieldBody},
		{"trailing data", append(with("", ""), '{'), fieldBody},
		{"not an object", []byte(`["4111111111111111"]`), fieldBody},
		{"empty body", nil, fieldBody},
		{"invalid UTF-8", []byte("{\"name\":\"\xff\"}"), fieldBody},
		{"lone surrogate", with("name", `"\ud800"`), fieldBody},
		{"bad escape", with("name", `"\x41"`), fieldBody},
		{"control character", with("name", "\"a\x01\""), fieldBody},
		{"value too long", with("name", `"`+strings.Repeat("a", 300)+`"`), fieldBody},
		{"body too large", []byte(strings.Repeat(" ", MaxBodyBytes+1)), fieldBody},
		{"brand is not a form field", []byte(`{"brand":"visa","number":"4111111111111111","expiry":"12/28","cvc":"123","name":"Ada"}`), fieldBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseSubmission(tt.body, testNow)
			if err == nil {
				c.Wipe()
				t.Fatalf("ParseSubmission(%s) succeeded, want an error on %s", tt.body, tt.field)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not a *FieldError wrapping ErrInvalid", err)
			}
			if fe.Field != tt.field {
				t.Errorf("field = %q (%s), want %q", fe.Field, fe.Message, tt.field)
			}
			if pan.Contains(err.Error()) || strings.Contains(err.Error(), "1111") {
				t.Errorf("error %q quotes the input", err)
			}
		})
	}
}

func TestExpiryValid(t *testing.T) {
	tests := []struct {
		month, year int
		want        bool
	}{
		{1, 2026, true}, {12, 2025, false}, {2, 2026, true}, {12, 2045, true}, {1, 2046, true}, {2, 2046, false},
		{0, 2027, false}, {13, 2027, false},
	}
	for _, tt := range tests {
		if got := ExpiryValid(tt.month, tt.year, testNow); got != tt.want {
			t.Errorf("ExpiryValid(%d, %d) = %v, want %v", tt.month, tt.year, got, tt.want)
		}
	}
}

func TestCVCLength(t *testing.T) {
	for _, row := range pan.IINTable() {
		want := 3
		if row.Brand == pan.BrandAmex {
			want = 4
		}
		if got := CVCLength(row.Brand); got != want {
			t.Errorf("CVCLength(%v) = %d, want %d", row.Brand, got, want)
		}
	}
}

// FuzzParseSubmission feeds arbitrary bodies to the parser: it never panics, a success is a
// valid card by every rule, and an error never quotes the input.
func FuzzParseSubmission(f *testing.F) {
	f.Add(form("4111 1111 1111 1111", "12/28", "123", "Ada Lovelace"))
	f.Add(form("378282246310005", "0329", "1234", "Alan"))
	f.Add(form("6200000000000001", "12/2030", "123", "李"))
	f.Add([]byte(`{"number":"4111\u00201111 1111 1111","expiry":"12\/28","cvc":"123","name":"\ud83d\ude00"}`))
	f.Add([]byte(`{"number":"4111111111111111","expiry":"12/28","cvc":"123","name":"Ada","name":"x"}`))
	f.Add([]byte(`{`))
	f.Add([]byte(`{"number":"` + strings.Repeat("4", 400) + `"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := ParseSubmission(body, testNow)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			if pan.Contains(err.Error()) {
				t.Fatalf("error %q holds a card number", err)
			}
			return
		}
		defer c.Wipe()
		num := string(c.d.number[:c.d.nlen])
		brand, ok := pan.Classify(num)
		if (!ok && brand != pan.BrandUnionPay) || brand != c.Brand() {
			t.Fatalf("accepted number of %d digits classifies as %v/%v, card says %v", len(num), brand, ok, c.Brand())
		}
		if !ExpiryValid(int(c.d.month), int(c.d.year), testNow) {
			t.Fatalf("accepted expiry %d/%d", c.d.month, c.d.year)
		}
		if int(c.d.clen) != CVCLength(c.Brand()) {
			t.Fatalf("accepted a %d-digit code for %v", c.d.clen, c.Brand())
		}
		// What Reveal writes reads back the same.
		r := &Reveal{}
		r.d.copyFrom(&c.d)
		var arr [512]byte
		out := r.d.appendJSON(arr[:0])
		back := &Reveal{}
		if err := decode(out, &back.d, true); err != nil {
			t.Fatalf("decode(appendJSON) = %v", err)
		}
		back.d.brand = r.d.brand
		if back.d != r.d {
			t.Fatal("reveal JSON does not read back to the same card")
		}
	})
}

package secureform

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"unicode/utf8"

	"github.com/parleyhq/parley/compliance/pan"
)

// Sizes of the fixed arrays card data lives in.
const (
	// MaxNameBytes bounds the cardholder's name, in bytes of UTF-8.
	MaxNameBytes = 100
	// maxCVC is the longest card security code (American Express CID).
	maxCVC = 4
	// redacted is what every card-holding type prints, marshals and logs as.
	redacted = "[redacted]"
	// maskRune replaces hidden digits in masked views, as compliance/pan does in chat.
	maskRune = "•"
)

// noCopy makes `go vet` (copylocks) report a copy of a value that holds card data: a copy would
// escape Wipe.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// data is card data in fixed arrays that Wipe overwrites.
type data struct {
	number  [pan.MaxDigits]byte
	nlen    uint8
	month   uint8
	year    uint16
	cvc     [maxCVC]byte
	clen    uint8
	name    [MaxNameBytes]byte
	namelen uint8
	brand   pan.Brand
}

// wipe overwrites every byte and field.
func (d *data) wipe() {
	clear(d.number[:])
	clear(d.cvc[:])
	clear(d.name[:])
	d.nlen, d.month, d.year, d.clen, d.namelen, d.brand = 0, 0, 0, 0, 0, pan.BrandUnknown
}

// copyFrom copies src into d.
func (d *data) copyFrom(src *data) {
	d.number, d.nlen, d.month, d.year = src.number, src.nlen, src.month, src.year
	d.cvc, d.clen, d.name, d.namelen, d.brand = src.cvc, src.clen, src.name, src.namelen, src.brand
}

// last4 returns the last four digits of the number ("" when there is no number).
func (d *data) last4() string {
	if d.nlen < 4 {
		return ""
	}
	return string(d.number[d.nlen-4 : d.nlen])
}

// maskedNumber renders the number as compliance/pan masks one in chat: the BIN (fewer digits
// for short numbers, so at least pan.MinHidden stay hidden) and the last four in
// pan.ModeBINLast4, the last four only in pan.ModeLast4.
func (d *data) maskedNumber(mode pan.Mode) string {
	n := int(d.nlen)
	if n < pan.MinDigits {
		return ""
	}
	keep := 0
	if mode == pan.ModeBINLast4 {
		keep = max(0, min(pan.BINDigits, n-pan.LastDigits-pan.MinHidden))
	}
	out := make([]byte, 0, keep+(n-keep-pan.LastDigits)*len(maskRune)+pan.LastDigits)
	out = append(out, d.number[:keep]...)
	for i := keep; i < n-pan.LastDigits; i++ {
		out = append(out, maskRune...)
	}
	out = append(out, d.number[n-pan.LastDigits:n]...)
	return string(out)
}

// appendJSON appends d as the JSON object Reveal.WriteJSON writes.
func (d *data) appendJSON(b []byte) []byte {
	b = append(b, `{"brand":"`...)
	b = append(b, d.brand.String()...)
	b = append(b, `","number":"`...)
	b = append(b, d.number[:d.nlen]...)
	b = append(b, `","expiry":"`...)
	b = appendExpiry(b, d.month, d.year)
	b = append(b, `","cvc":"`...)
	b = append(b, d.cvc[:d.clen]...)
	b = append(b, `","name":`...)
	b = appendJSONString(b, d.name[:d.namelen])
	return append(b, '}')
}

// appendExpiry appends MM/YY.
func appendExpiry(b []byte, month uint8, year uint16) []byte {
	if month < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendUint(b, uint64(month), 10)
	b = append(b, '/')
	yy := year % 100
	if yy < 10 {
		b = append(b, '0')
	}
	return strconv.AppendUint(b, uint64(yy), 10)
}

// appendJSONString appends s (valid UTF-8) as a JSON string, escaping quotes, backslashes and
// control characters.
func appendJSONString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			_, w := utf8.DecodeRune(s[i:])
			b = append(b, s[i:i+w]...)
			i += w
			continue
		}
		i++
	}
	return append(b, '"')
}

// Card is card data a visitor submitted, held by a Store. It is used through a pointer only
// (`go vet` reports copies) and is zeroed by Wipe. Card prints, marshals and logs as
// "[redacted]" with every verb and encoder.
type Card struct {
	_ noCopy
	d data
	// After tokenization the data is wiped; the brand, the last four digits and the masked
	// token reference remain.
	tokenized bool
	last4     [4]byte
	tokenRef  string
}

// Brand returns the card's brand.
func (c *Card) Brand() pan.Brand { return c.d.brand }

// Last4 returns the last four digits of the number, which PCI DSS 3.4.1 allows to display.
func (c *Card) Last4() string {
	if c.tokenized {
		return string(c.last4[:])
	}
	return c.d.last4()
}

// Tokenized reports whether the card was forwarded to the tokenization endpoint (and its data
// wiped).
func (c *Card) Tokenized() bool { return c.tokenized }

// Wipe overwrites the card's data.
func (c *Card) Wipe() {
	c.d.wipe()
	clear(c.last4[:])
	c.tokenRef = ""
}

// replaceWithToken keeps the brand, the last four digits and the masked token reference and
// wipes the rest.
func (c *Card) replaceWithToken(ref string) {
	brand := c.d.brand
	copy(c.last4[:], c.d.number[c.d.nlen-4:c.d.nlen])
	c.d.wipe()
	c.d.brand = brand
	c.tokenized = true
	c.tokenRef = MaskToken(ref)
}

// String implements fmt.Stringer without revealing anything.
func (c *Card) String() string { return redacted }

// GoString implements fmt.GoStringer without revealing anything.
func (c *Card) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb prints "[redacted]".
func (c *Card) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalJSON implements json.Marshaler without revealing anything.
func (c *Card) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler without revealing anything.
func (c *Card) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue implements slog.LogValuer without revealing anything.
func (c *Card) LogValue() slog.Value { return slog.StringValue(redacted) }

// Reveal is a full copy of a card for a caller allowed to see it (card.view_full): number,
// expiry, code and name. It leaves the process only through WriteJSON and must be wiped after
// use. Like Card, it prints, marshals and logs as "[redacted]".
type Reveal struct {
	_ noCopy
	d data
}

// Brand returns the card's brand.
func (r *Reveal) Brand() pan.Brand { return r.d.brand }

// WriteJSON writes {"brand","number","expiry","cvc","name"} to w from a buffer it zeroes
// afterwards.
func (r *Reveal) WriteJSON(w io.Writer) error {
	var arr [512]byte
	buf := r.d.appendJSON(arr[:0])
	_, err := w.Write(buf)
	clear(buf)
	clear(arr[:])
	return err
}

// Wipe overwrites the copy.
func (r *Reveal) Wipe() { r.d.wipe() }

// String implements fmt.Stringer without revealing anything.
func (r *Reveal) String() string { return redacted }

// GoString implements fmt.GoStringer without revealing anything.
func (r *Reveal) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb prints "[redacted]".
func (r *Reveal) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalJSON implements json.Marshaler without revealing anything: use WriteJSON.
func (r *Reveal) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler without revealing anything.
func (r *Reveal) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue implements slog.LogValuer without revealing anything.
func (r *Reveal) LogValue() slog.Value { return slog.StringValue(redacted) }

// Masked is what an agent sees by default: nothing PCI DSS 3.4.1 forbids displaying. It is safe
// to log and to send.
type Masked struct {
	Brand string `json:"brand"`
	// Number is the masked number (BIN and last four, or last four only).
	Number string `json:"number"`
	// Expiry and CVC are fully masked; they show only that a value was given.
	Expiry string `json:"expiry"`
	CVC    string `json:"cvc"`
	Name   string `json:"name"`
	// Tokenized is true when the card went to the tokenization endpoint; Token is the masked
	// reference it returned.
	Tokenized bool   `json:"tokenized"`
	Token     string `json:"token,omitempty"`
}

// masked builds the Masked view of c.
func (c *Card) masked(mode pan.Mode) Masked {
	if c.tokenized {
		return Masked{Brand: c.d.brand.String(), Number: "••••" + string(c.last4[:]), Tokenized: true, Token: c.tokenRef}
	}
	m := Masked{Brand: c.d.brand.String(), Number: c.d.maskedNumber(mode), Name: string(c.d.name[:c.d.namelen])}
	if c.d.month != 0 {
		m.Expiry = "••/••"
	}
	for range c.d.clen {
		m.CVC += maskRune
	}
	return m
}

// MaskToken masks a tokenization reference: its first and last four characters stay when it is
// longer than 12 characters, only its last two otherwise.
func MaskToken(ref string) string {
	if len(ref) > 12 {
		return ref[:4] + "…" + ref[len(ref)-4:]
	}
	if len(ref) > 2 {
		return "…" + ref[len(ref)-2:]
	}
	return "…"
}

package secureform

import (
	"errors"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits of ParseSubmission.
const (
	// MaxBodyBytes bounds a form submission's body.
	MaxBodyBytes = 4 << 10
	// maxValueBytes bounds one unescaped value.
	maxValueBytes = 256
)

// Form field names, as the form sends them (with autocomplete cc-number, cc-exp, cc-csc and
// cc-name).
const (
	FieldNumber = "number"
	FieldExpiry = "expiry"
	FieldCVC    = "cvc"
	FieldName   = "name"
	fieldBody   = "body"
	fieldBrand  = "brand"
)

var errSyntax = errors.New("secureform: malformed JSON")

// flat reads a JSON object whose members are all strings, calling set with each key and its
// unescaped value. The value slice is a scratch buffer the parser reuses and zeroes: set must
// copy what it keeps. No intermediate string of a value is created.
type flat struct {
	b       []byte
	i       int
	scratch [maxValueBytes]byte
}

func (p *flat) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *flat) next(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// parse walks the object.
func (p *flat) parse(set func(key string, val []byte) error) error {
	defer clear(p.scratch[:])
	if !p.next('{') {
		return errSyntax
	}
	seen := map[string]bool{}
	if p.next('}') {
		return p.end()
	}
	for {
		p.ws()
		key, err := p.str()
		if err != nil {
			return err
		}
		k := string(key)
		if seen[k] {
			return errSyntax
		}
		seen[k] = true
		if !p.next(':') {
			return errSyntax
		}
		p.ws()
		val, err := p.str()
		if err != nil {
			return err
		}
		err = set(k, val)
		clear(val)
		if err != nil {
			return err
		}
		if p.next(',') {
			continue
		}
		if p.next('}') {
			return p.end()
		}
		return errSyntax
	}
}

func (p *flat) end() error {
	p.ws()
	if p.i != len(p.b) {
		return errSyntax
	}
	return nil
}

// str reads a JSON string at p.i and returns it unescaped in the scratch buffer.
func (p *flat) str() ([]byte, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, errSyntax
	}
	p.i++
	out := p.scratch[:0]
	put := func(bs ...byte) error {
		if len(out)+len(bs) > maxValueBytes {
			return errTooLong
		}
		out = append(out, bs...)
		return nil
	}
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return out, nil
		case c < 0x20:
			return nil, errSyntax
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return nil, errSyntax
			}
			e := p.b[p.i+1]
			p.i += 2
			var r rune
			switch e {
			case '"', '\\', '/':
				r = rune(e)
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case 'u':
				var ok bool
				if r, ok = p.hex4(); !ok {
					return nil, errSyntax
				}
				if utf16.IsSurrogate(r) {
					lo, ok := rune(0), false
					if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
						p.i += 2
						lo, ok = p.hex4()
					}
					if r = utf16.DecodeRune(r, lo); !ok || r == utf8.RuneError {
						return nil, errSyntax
					}
				}
			default:
				return nil, errSyntax
			}
			var enc [utf8.UTFMax]byte
			n := utf8.EncodeRune(enc[:], r)
			if err := put(enc[:n]...); err != nil {
				return nil, err
			}
		case c < utf8.RuneSelf:
			if err := put(c); err != nil {
				return nil, err
			}
			p.i++
		default:
			r, w := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && w <= 1 {
				return nil, errSyntax
			}
			if err := put(p.b[p.i : p.i+w]...); err != nil {
				return nil, err
			}
			p.i += w
		}
	}
	return nil, errSyntax
}

func (p *flat) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	p.i += 4
	return r, true
}

var errTooLong = errors.New("secureform: value too long")

// ParseSubmission reads a secure form's JSON body — {"number","expiry","cvc","name"}, every
// value a string — into a new Card and validates it at time now: the number by IIN, length and
// Luhn (UnionPay excepted), the expiry not past, the code's length by brand, the name present
// and free of digits. Errors are *FieldError values (errors.Is ErrInvalid) that never quote the
// input. The caller should zero body afterwards; ParseSubmission keeps no reference to it.
func ParseSubmission(body []byte, now time.Time) (*Card, error) {
	if len(body) > MaxBodyBytes {
		return nil, fieldErr(fieldBody, "The form is too large.")
	}
	c := &Card{}
	if err := decode(body, &c.d, false); err != nil {
		c.Wipe()
		return nil, err
	}
	if err := validate(&c.d, now); err != nil {
		c.Wipe()
		return nil, err
	}
	return c, nil
}

// decode fills d from a flat JSON object. With reveal it also accepts "brand" (the shape
// Reveal.WriteJSON writes).
func decode(body []byte, d *data, reveal bool) error {
	p := &flat{b: body}
	got := map[string]bool{}
	err := p.parse(func(key string, v []byte) error {
		got[key] = true
		switch key {
		case FieldNumber:
			return setNumber(d, v)
		case FieldExpiry:
			return setExpiry(d, v)
		case FieldCVC:
			return setCVC(d, v)
		case FieldName:
			return setName(d, v)
		case fieldBrand:
			if reveal {
				return nil
			}
		}
		return fieldErr(fieldBody, "The form has an unknown field.")
	})
	switch {
	case errors.Is(err, errSyntax):
		return fieldErr(fieldBody, "The form could not be read.")
	case errors.Is(err, errTooLong):
		return fieldErr(fieldBody, "A field of the form is too long.")
	case err != nil:
		return err
	}
	for _, f := range []string{FieldNumber, FieldExpiry, FieldCVC, FieldName} {
		if !got[f] {
			return fieldErr(f, missing[f])
		}
	}
	return nil
}

var missing = map[string]string{
	FieldNumber: "Enter the card number.",
	FieldExpiry: "Enter the expiry date (MM/YY).",
	FieldCVC:    "Enter the security code.",
	FieldName:   "Enter the name on the card.",
}

// setNumber keeps the digits of v; spaces and hyphens between them are allowed.
func setNumber(d *data, v []byte) error {
	d.nlen = 0
	for _, c := range v {
		switch {
		case c >= '0' && c <= '9':
			if int(d.nlen) == len(d.number) {
				return fieldErr(FieldNumber, "A card number has at most 19 digits.")
			}
			d.number[d.nlen] = c
			d.nlen++
		case c == ' ' || c == '-':
		default:
			return fieldErr(FieldNumber, "Use digits only.")
		}
	}
	if d.nlen == 0 {
		return fieldErr(FieldNumber, missing[FieldNumber])
	}
	return nil
}

// setExpiry reads MM/YY, MM/YYYY, MM-YY, MMYY or MMYYYY; spaces are ignored.
func setExpiry(d *data, v []byte) error {
	bad := fieldErr(FieldExpiry, "Enter the expiry date as MM/YY.")
	var vals, lens [2]int
	part := 0
	for _, c := range v {
		switch {
		case c == ' ':
		case c == '/' || c == '-':
			if part == 1 || lens[0] == 0 {
				return bad
			}
			part = 1
		case c >= '0' && c <= '9':
			if lens[part] == 6 {
				return bad
			}
			vals[part] = vals[part]*10 + int(c-'0')
			lens[part]++
		default:
			return bad
		}
	}
	var month, year int
	switch {
	case part == 1 && lens[0] >= 1 && lens[0] <= 2 && lens[1] == 2:
		month, year = vals[0], 2000+vals[1]
	case part == 1 && lens[0] >= 1 && lens[0] <= 2 && lens[1] == 4:
		month, year = vals[0], vals[1]
	case part == 0 && lens[0] == 4:
		month, year = vals[0]/100, 2000+vals[0]%100
	case part == 0 && lens[0] == 6:
		month, year = vals[0]/10000, vals[0]%10000
	default:
		return bad
	}
	if month < 1 || month > 12 || year < 2000 || year > 2099 {
		return bad
	}
	d.month, d.year = uint8(month), uint16(year) // #nosec G115 -- month is 1–12 and year 2000–2099, checked above
	return nil
}

// setCVC reads 3 or 4 digits.
func setCVC(d *data, v []byte) error {
	if len(v) < 3 || len(v) > maxCVC {
		return fieldErr(FieldCVC, "The security code has 3 or 4 digits.")
	}
	for i, c := range v {
		if c < '0' || c > '9' {
			return fieldErr(FieldCVC, "The security code has 3 or 4 digits.")
		}
		d.cvc[i] = c
	}
	d.clen = uint8(len(v)) // #nosec G115 -- at most maxCVC
	return nil
}

// setName keeps the trimmed name: letters, marks, spaces and punctuation, no digits, no control
// or invisible formatting characters.
func setName(d *data, v []byte) error {
	start, end := 0, len(v)
	for start < end && v[start] == ' ' {
		start++
	}
	for end > start && v[end-1] == ' ' {
		end--
	}
	v = v[start:end]
	if len(v) == 0 {
		return fieldErr(FieldName, missing[FieldName])
	}
	if len(v) > MaxNameBytes {
		return fieldErr(FieldName, "The name is at most 100 characters.")
	}
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRune(v[i:])
		switch {
		case r == utf8.RuneError && w <= 1:
			return fieldErr(FieldName, "The name could not be read.")
		case unicode.IsDigit(r) || unicode.IsNumber(r):
			return fieldErr(FieldName, "The name on the card has no digits.")
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || (unicode.IsSpace(r) && r != ' '):
			return fieldErr(FieldName, "The name has a character that is not allowed.")
		}
		i += w
	}
	d.namelen = uint8(copy(d.name[:], v)) // #nosec G115 -- at most MaxNameBytes (100)
	return nil
}

package pan

import "errors"

// ErrInvalidMaskRune reports a mask rune that could be mistaken for card data
// or that does not survive encoding: a digit, a separator, an invisible
// character, a control character or an invalid rune.
var ErrInvalidMaskRune = errors.New("pan: invalid mask rune")

// ErrInvalidMode reports a masking mode other than ModeBINLast4 or ModeLast4.
var ErrInvalidMode = errors.New("pan: invalid masking mode")

// ErrInvalidOption reports an out-of-range numeric option.
var ErrInvalidOption = errors.New("pan: invalid option")

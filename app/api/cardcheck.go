package api

import "github.com/parleyhq/parley/compliance/pan"

// NoCardNumber returns ErrCardNumber naming field when value holds a card number (13–19 digits
// with separators, IIN and Luhn; see compliance/pan), and nil otherwise. Handlers call it where a
// value that is stored in clear enters, so the person sees the error on the field; the storage
// guard (migrations.CardGuard) refuses the same values whatever path they take.
func NoCardNumber(field, value string) error {
	if pan.Contains(value) {
		return ErrCardNumber.WithField(field)
	}
	return nil
}

// NoCardNumbers is NoCardNumber over several fields: name, value, name, value…
func NoCardNumbers(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := NoCardNumber(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

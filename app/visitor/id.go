package visitor

import (
	"errors"

	"github.com/google/uuid"
)

// ErrID means a value is not a visitor id.
var ErrID = errors.New("visitor: not a visitor id")

// ParseID returns the canonical form of a visitor id: a UUID (Parley issues version 7) in its
// 36-character hyphenated form, lower case. Anything else — braces, a urn:uuid: prefix, digits
// only — is refused with ErrID.
func ParseID(s string) (string, error) {
	if len(s) != 36 {
		return "", ErrID
	}
	u, err := uuid.Parse(s)
	if err != nil || u == uuid.Nil {
		return "", ErrID
	}
	return u.String(), nil
}

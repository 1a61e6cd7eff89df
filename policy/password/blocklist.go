package password

import (
	"bufio"
	"bytes"
	_ "embed" // the common-password list is embedded
	"fmt"
	"io"
	"strings"
)

// commonPasswords is the embedded list of common passwords, one per line,
// lower-cased and deduplicated. Its source and licence are in NOTICE.md.
//
//go:embed common-passwords.txt
var commonPasswords []byte

// MaxBlocklistEntry is the longest line ParseBlocklist accepts, in bytes.
const MaxBlocklistEntry = MaxBytes

// Blocklist is an immutable set of banned passwords, compared after Normalize
// and lower-casing. Build it once and share it between goroutines.
type Blocklist struct {
	set map[string]struct{}
}

// NewBlocklist returns the Blocklist of Parley's embedded common-password list
// (30,000 entries).
func NewBlocklist() *Blocklist {
	b, err := ParseBlocklist(bytes.NewReader(commonPasswords))
	if err != nil {
		// The embedded list is checked by the tests; it cannot be malformed.
		panic("password: embedded common-password list: " + err.Error())
	}
	return b
}

// ParseBlocklist reads a Blocklist, one password per line, from r; an operator
// may use it to load a larger list. Blank lines are skipped; entries are
// normalized and lower-cased. Lines over MaxBlocklistEntry bytes or not in
// UTF-8 are an error naming the line number (never its content).
func ParseBlocklist(r io.Reader) (*Blocklist, error) {
	set := make(map[string]struct{}, 32768)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxBlocklistEntry+2)
	line := 0
	for sc.Scan() {
		line++
		raw := strings.TrimRight(sc.Text(), "\r")
		if raw == "" {
			continue
		}
		n, err := Normalize(raw)
		if err != nil {
			return nil, fmt.Errorf("password: blocklist line %d: %w", line, err)
		}
		set[strings.ToLower(n)] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("password: blocklist line %d: %w", line+1, err)
	}
	return &Blocklist{set: set}, nil
}

// Len returns the number of distinct entries.
func (b *Blocklist) Len() int { return len(b.set) }

// Contains reports whether the normalized password, lower-cased, is on the list.
func (b *Blocklist) Contains(normalized string) bool {
	_, ok := b.set[strings.ToLower(normalized)]
	return ok
}

package passhash

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Params are the argon2id cost parameters. They are written into every
// encoded hash, so a hash stays verifiable after the configured cost is
// raised, and Verify can tell the caller to re-hash on the next sign-in.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Iterations is the number of passes over the memory (argon2's "time").
	Iterations uint32
	// Parallelism is the number of lanes (argon2's "threads").
	Parallelism uint8
	// SaltLen is the length of the random salt in bytes.
	SaltLen uint32
	// KeyLen is the length of the derived key in bytes.
	KeyLen uint32
}

// MinParams is the lowest cost Parley hashes new passwords with: OWASP's
// argon2id baseline of 19 MiB, two iterations and one lane, with a 128-bit
// salt and a 256-bit key. Stored hashes below it still verify, and are
// reported as needing a re-hash.
func MinParams() Params {
	return Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}
}

// DefaultParams is the cost used when a Config leaves Params zero. It equals
// MinParams so sign-ins stay fast on small nodes; operators raise it with
// Config.Params and existing hashes are upgraded as users sign in.
func DefaultParams() Params { return MinParams() }

// Bounds on parameters read from an encoded hash. A stored hash is input: a
// damaged or tampered row must not make one verification allocate gigabytes
// or spin for minutes.
const (
	maxMemoryKiB  = 1 << 20 // 1 GiB
	maxIterations = 64
	minSaltLen    = 8
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 128
)

// validate reports whether p is within the bounds any hash may use.
func (p Params) validate() error {
	switch {
	case p.Parallelism == 0:
		return fmt.Errorf("%w: parallelism must be at least 1", ErrInvalidParams)
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("%w: memory must be between 8×parallelism and %d KiB", ErrInvalidParams, maxMemoryKiB)
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("%w: iterations must be between 1 and %d", ErrInvalidParams, maxIterations)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: salt length must be between %d and %d bytes", ErrInvalidParams, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: key length must be between %d and %d bytes", ErrInvalidParams, minKeyLen, maxKeyLen)
	}
	return nil
}

// below reports whether any parameter of p is lower than the same parameter
// of want, which means a hash made with p should be re-made with want.
func (p Params) below(want Params) bool {
	return p.Memory < want.Memory ||
		p.Iterations < want.Iterations ||
		p.Parallelism < want.Parallelism ||
		p.SaltLen < want.SaltLen ||
		p.KeyLen < want.KeyLen
}

// String renders p in the PHC parameter syntax, e.g. "m=19456,t=2,p=1".
func (p Params) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Iterations, p.Parallelism)
}

const (
	phcAlgorithm = "argon2id"
	phcVersion   = "v=19" // argon2 version 0x13, the only one x/crypto implements
)

// b64 is the PHC string format's base64: standard alphabet, no padding, and
// strict so that every hash has exactly one accepted spelling.
var b64 = base64.RawStdEncoding.Strict()

// encode renders the PHC string
// "$argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt>$<key>".
func encode(p Params, salt, key []byte) string {
	var sb strings.Builder
	sb.Grow(len("$argon2id$v=19$m=,t=,p=$$") + 24 + b64.EncodedLen(len(salt)) + b64.EncodedLen(len(key)))
	sb.WriteString("$" + phcAlgorithm + "$" + phcVersion + "$")
	sb.WriteString(p.String())
	sb.WriteByte('$')
	sb.WriteString(b64.EncodeToString(salt))
	sb.WriteByte('$')
	sb.WriteString(b64.EncodeToString(key))
	return sb.String()
}

// decoded is a parsed PHC string.
type decoded struct {
	params Params
	salt   []byte
	key    []byte
}

// decode parses a PHC string written by encode. It is strict: one algorithm,
// one version, parameters in the order m, t, p, canonical decimal numbers,
// canonical unpadded base64, and bounded costs. Errors wrap ErrMalformed or
// ErrInvalidParams and never quote the input.
func decode(s string) (decoded, error) {
	var d decoded
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return d, fmt.Errorf("%w: want 5 fields separated by '$'", ErrMalformed)
	}
	if parts[1] != phcAlgorithm {
		return d, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformed)
	}
	if parts[2] != phcVersion {
		return d, fmt.Errorf("%w: version is not v=19", ErrMalformed)
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return d, fmt.Errorf("%w: want parameters m, t and p", ErrMalformed)
	}
	var nums [3]uint32
	for i, name := range [3]string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return d, fmt.Errorf("%w: parameter %d is not %q", ErrMalformed, i+1, name)
		}
		n, err := parseDecimal(v)
		if err != nil {
			return d, fmt.Errorf("%w: parameter %q: %w", ErrMalformed, name, err)
		}
		nums[i] = n
	}
	if nums[2] > 255 {
		return d, fmt.Errorf("%w: parallelism above 255", ErrInvalidParams)
	}
	salt, err := decodeB64(parts[4])
	if err != nil {
		return d, fmt.Errorf("%w: salt is not base64", ErrMalformed)
	}
	key, err := decodeB64(parts[5])
	if err != nil {
		return d, fmt.Errorf("%w: hash is not base64", ErrMalformed)
	}
	if len(salt) > maxSaltLen || len(key) > maxKeyLen {
		return d, fmt.Errorf("%w: salt or hash too long", ErrInvalidParams)
	}
	d.params = Params{
		Memory:      nums[0],
		Iterations:  nums[1],
		Parallelism: uint8(nums[2]),    // #nosec G115 -- at most 255, checked above
		SaltLen:     uint32(len(salt)), // #nosec G115 -- at most maxSaltLen, checked above
		KeyLen:      uint32(len(key)),  // #nosec G115 -- at most maxKeyLen, checked above
	}
	if err := d.params.validate(); err != nil {
		return d, err
	}
	d.salt, d.key = salt, key
	return d, nil
}

// decodeB64 decodes canonical PHC base64. encoding/base64 skips CR and LF
// even in strict mode, so any byte outside the alphabet is refused first.
func decodeB64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return nil, fmt.Errorf("byte outside the base64 alphabet")
		}
	}
	return b64.DecodeString(s)
}

// parseDecimal accepts a canonical unsigned decimal that fits 32 bits: ASCII
// digits only, no sign, no leading zero.
func parseDecimal(s string) (uint32, error) {
	if s == "" {
		return 0, fmt.Errorf("empty number")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("leading zero")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a decimal number")
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("number out of range")
	}
	return uint32(n), nil
}

// ParseParams returns the cost parameters recorded in an encoded hash, for
// reports such as "how many stored hashes are below the configured cost". It
// validates the whole encoding as Verify does.
func ParseParams(encoded string) (Params, error) {
	d, err := decode(encoded)
	if err != nil {
		return Params{}, err
	}
	return d.params, nil
}

package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strconv"
	"time"
)

// Domain tags: the first field of every canonical encoding, so bytes signed or hashed for one
// purpose can never be taken for another. CANONICAL.md specifies the encodings.
const (
	eventTag      = "parley.audit.event.v1"
	checkpointTag = "parley.audit.checkpoint.v1"
)

// TimeLayout is the canonical time format: UTC, exactly six fractional digits, "Z".
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// CanonicalTime returns t as it is hashed and exported: UTC, truncated to microseconds.
func CanonicalTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// appendField appends one length-prefixed field: a 4-byte big-endian length, then the bytes.
func appendField(dst []byte, s string) []byte {
	n := len(s) // field sizes are capped far below 4 GiB by Normalize
	dst = append(dst, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	return append(dst, s...)
}

func appendBytesField(dst, b []byte) []byte {
	n := len(b)
	dst = append(dst, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	return append(dst, b...)
}

// appendIntField appends a decimal integer field without going through strconv's general
// formatter.
func appendIntField(dst []byte, v int64) []byte {
	if v < 0 {
		s := strconv.FormatInt(v, 10)
		return appendField(dst, s)
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return appendBytesField(dst, tmp[i:])
}

func appendTimeField(dst []byte, t time.Time) []byte {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		start := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		dst = t.AppendFormat(dst, TimeLayout)
		binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4)) // #nosec G115 -- a formatted time is ~30 bytes
		return dst
	}
	return appendCanonicalTime(append(dst, 0, 0, 0, byte(len(TimeLayout))), t)
}

// appendCanonicalTime appends t (UTC, year 0–9999) in TimeLayout. It converts the Unix time
// itself (civil-from-days, H. Hinnant) because the generic formatter would otherwise be the
// largest cost of hashing an event.
func appendCanonicalTime(dst []byte, t time.Time) []byte {
	us := t.UnixMicro()
	secs := floorDiv(us, 1_000_000)
	frac := us - secs*1_000_000
	days := floorDiv(secs, 86400)
	sod := secs - days*86400
	y, mo, d := civilFromDays(days)
	h, mi, s := sod/3600, sod/60%60, sod%60
	return append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+mo/10), byte('0'+mo%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+frac/100000), byte('0'+frac/10000%10), byte('0'+frac/1000%10), byte('0'+frac/100%10),
		byte('0'+frac/10%10), byte('0'+frac%10), 'Z')
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// civilFromDays returns the proleptic Gregorian date of a day count since 1970-01-01.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// Hasher builds canonical encodings and chain hashes, reusing its buffers so hashing a chain
// allocates nothing per event. It is not safe for concurrent use; each goroutine takes its own.
type Hasher struct {
	buf   []byte
	pairs []detailPair
}

type detailPair struct{ k, v string }

// NewHasher returns a Hasher.
func NewHasher() *Hasher {
	return &Hasher{buf: make([]byte, 0, 1024)}
}

// Canonical returns the canonical encoding of e; the slice is valid until the next call.
func (c *Hasher) Canonical(e *Event) []byte {
	b := c.buf[:0]
	b = appendField(b, eventTag)
	b = appendField(b, e.Tenant)
	b = appendIntField(b, e.Seq)
	b = appendTimeField(b, e.Time)
	b = appendField(b, string(e.Actor.Kind))
	b = appendField(b, e.Actor.ID)
	b = appendField(b, e.Actor.Role)
	b = appendField(b, e.Origin.IP)
	b = appendField(b, e.Origin.UserAgent)
	b = appendField(b, e.Origin.Node)
	b = appendField(b, string(e.Action))
	b = appendField(b, e.Target.Kind)
	b = appendField(b, e.Target.ID)
	b = appendField(b, string(e.Outcome))
	b = appendField(b, e.Reason)
	b = appendField(b, e.RequestID)
	b = appendIntField(b, int64(len(e.Details)))
	if len(e.Details) > 0 {
		c.pairs = c.pairs[:0]
		for k, v := range e.Details {
			c.pairs = append(c.pairs, detailPair{k, v})
		}
		// Insertion sort: details are few (at most MaxDetailKeys), and this allocates nothing.
		for i := 1; i < len(c.pairs); i++ {
			for j := i; j > 0 && c.pairs[j].k < c.pairs[j-1].k; j-- {
				c.pairs[j], c.pairs[j-1] = c.pairs[j-1], c.pairs[j]
			}
		}
		for _, p := range c.pairs {
			b = appendField(b, p.k)
			b = appendField(b, p.v)
		}
	}
	c.buf = b
	return b
}

// Chain returns SHA-256(canonical(e) ‖ prev).
func (c *Hasher) Chain(e *Event, prev Hash) Hash {
	b := append(c.Canonical(e), prev[:]...)
	c.buf = b
	return Hash(sha256.Sum256(b))
}

// CanonicalEvent returns the canonical encoding of e as CANONICAL.md defines it.
func CanonicalEvent(e Event) []byte {
	return slices.Clone(NewHasher().Canonical(&e))
}

// ChainHash returns SHA-256(CanonicalEvent(e) ‖ prev), the hash of e when it follows an event
// whose hash is prev (the zero Hash for seq 1).
func ChainHash(e Event, prev Hash) Hash {
	return NewHasher().Chain(&e, prev)
}

// Verify reports whether the entry's Hash is the chain hash of its event and PrevHash.
func (en Entry) Verify() bool {
	return ChainHash(en.Event, en.PrevHash) == en.Hash
}

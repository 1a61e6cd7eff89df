package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
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
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s))) // #nosec G115 -- field sizes are capped far below 4 GiB by normalisation
	return append(dst, s...)
}

func appendBytesField(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b))) // #nosec G115 -- hashes and signatures are tens of bytes
	return append(dst, b...)
}

func appendIntField(dst []byte, v int64) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = strconv.AppendInt(dst, v, 10)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4)) // #nosec G115 -- at most 20 digits
	return dst
}

func appendTimeField(dst []byte, t time.Time) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = t.UTC().AppendFormat(dst, TimeLayout)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4)) // #nosec G115 -- a formatted time is ~27 bytes
	return dst
}

// Hasher builds canonical encodings and chain hashes, reusing its buffers so hashing a chain
// allocates nothing per event. It is not safe for concurrent use; each goroutine takes its own.
type Hasher struct {
	buf  []byte
	keys []string
	h    hash.Hash
	sum  []byte
}

// NewHasher returns a Hasher.
func NewHasher() *Hasher {
	return &Hasher{buf: make([]byte, 0, 1024), h: sha256.New(), sum: make([]byte, 0, sha256.Size)}
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
		c.keys = c.keys[:0]
		for k := range e.Details {
			c.keys = append(c.keys, k)
		}
		slices.Sort(c.keys)
		for _, k := range c.keys {
			b = appendField(b, k)
			b = appendField(b, e.Details[k])
		}
	}
	c.buf = b
	return b
}

// Chain returns SHA-256(canonical(e) ‖ prev).
func (c *Hasher) Chain(e *Event, prev Hash) Hash {
	b := c.Canonical(e)
	c.h.Reset()
	c.h.Write(b)
	c.h.Write(prev[:])
	var out Hash
	c.sum = c.h.Sum(c.sum[:0])
	copy(out[:], c.sum)
	return out
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

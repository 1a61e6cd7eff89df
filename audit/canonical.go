package audit

import (
	"crypto/sha256"
	"encoding"
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
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s))) // #nosec G115 -- field sizes are capped far below 4 GiB by Normalize
	return append(dst, s...)
}

func appendBytesField(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b))) // #nosec G115 -- hashes and formatted values are short
	return append(dst, b...)
}

// appendIntField appends a decimal integer field.
func appendIntField(dst []byte, v int64) []byte {
	if v < 0 || v >= 1e8 {
		start := len(dst)
		dst = strconv.AppendInt(append(dst, 0, 0, 0, 0), v, 10)
		binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4)) // #nosec G115 -- at most 20 digits
		return dst
	}
	// Up to eight digits, two at a time from the table, without strconv's general path.
	var tmp [8]byte
	i := len(tmp)
	for v >= 100 {
		q := v / 100
		d := (v - q*100) * 2
		i -= 2
		tmp[i], tmp[i+1] = digitPairs[d], digitPairs[d+1]
		v = q
	}
	if v >= 10 {
		i -= 2
		tmp[i], tmp[i+1] = digitPairs[v*2], digitPairs[v*2+1]
	} else {
		i--
		tmp[i] = byte('0' + v)
	}
	return append(append(dst, 0, 0, 0, byte(len(tmp)-i)), tmp[i:]...)
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// The Unix seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: times in between have
// four-digit years and take the fast formatter.
const (
	minFastUnix = -62_167_219_200
	maxFastUnix = 253_402_300_799
)

// appendTimeField appends t as a TimeLayout field.
func appendTimeField(dst []byte, t time.Time) []byte {
	secs := t.Unix()
	if secs < minFastUnix || secs > maxFastUnix {
		start := len(dst)
		dst = t.UTC().AppendFormat(append(dst, 0, 0, 0, 0), TimeLayout)
		binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4)) // #nosec G115 -- a formatted time is ~30 bytes
		return dst
	}
	days := floorDiv(secs, 86400)
	sod := int(secs - days*86400)
	var day [11]byte
	formatDay(&day, days)
	return appendClock(append(append(dst, 0, 0, 0, byte(len(TimeLayout))), day[:]...), sod, t.Nanosecond()/1000)
}

// formatDay writes "YYYY-MM-DDT" for a day count since 1970-01-01 (year 0–9999). It converts
// the date itself (civil-from-days, H. Hinnant) because the generic formatter would otherwise
// be the largest cost of hashing an event.
func formatDay(dst *[11]byte, days int64) {
	y, mo, d := civilFromDays(days)
	*dst = [11]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + mo/10), byte('0' + mo%10), '-', byte('0' + d/10), byte('0' + d%10), 'T'}
}

// appendClock appends "hh:mm:ss.uuuuuuZ" for sod seconds of the day and us microseconds.
func appendClock(dst []byte, sod, us int) []byte {
	h, mi, s := sod/3600*2, sod/60%60*2, sod%60*2
	u1, u2, u3 := us/10000*2, us/100%100*2, us%100*2
	return append(dst, digitPairs[h], digitPairs[h+1], ':', digitPairs[mi], digitPairs[mi+1], ':',
		digitPairs[s], digitPairs[s+1], '.', digitPairs[u1], digitPairs[u1+1], digitPairs[u2], digitPairs[u2+1],
		digitPairs[u3], digitPairs[u3+1], 'Z')
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
//
// Two caches make re-encoding a stored chain cheap without trusting anything but the event
// itself: the "YYYY-MM-DDT" text of the last day formatted, and, per action, the sorted keys of
// the last details map seen. A map whose length equals a cached key list and that holds every
// key of it has exactly those keys, so they are encoded in that order with one lookup each
// instead of iterating and sorting the map; any other map takes the general path. Hashing pads
// the message itself so that each event takes a single call into SHA-256 (see sum).
type Hasher struct {
	buf   []byte
	pairs []detailPair

	day     int64
	dayText [11]byte
	dayOK   bool

	keys [keySlots][]string

	sha   hash.Hash
	state []byte
}

type detailPair struct{ k, v string }

// keySlots is the size of the direct-mapped cache of detail key lists.
const keySlots = 16

// eventTagField is field 1 of every event encoding: eventTag with its length prefix (21).
const eventTagField = "\x00\x00\x00\x15" + eventTag

// NewHasher returns a Hasher.
func NewHasher() *Hasher {
	return &Hasher{buf: make([]byte, 0, 1024), sha: sha256.New(), state: make([]byte, 0, 128)}
}

// Canonical returns the canonical encoding of e; the slice is valid until the next call.
func (c *Hasher) Canonical(e *Event) []byte {
	b := append(c.buf[:0], eventTagField...)
	b = appendField(b, e.Tenant)
	b = appendIntField(b, e.Seq)
	b = c.appendTime(b, e.Time)
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
		b = c.appendDetails(b, e.Action, e.Details)
	}
	c.buf = b
	return b
}

// appendTime is appendTimeField with the day's text cached.
func (c *Hasher) appendTime(dst []byte, t time.Time) []byte {
	secs := t.Unix()
	if secs < minFastUnix || secs > maxFastUnix {
		return appendTimeField(dst, t)
	}
	days := floorDiv(secs, 86400)
	if !c.dayOK || days != c.day {
		formatDay(&c.dayText, days)
		c.day, c.dayOK = days, true
	}
	dst = append(append(dst, 0, 0, 0, byte(len(TimeLayout))), c.dayText[:]...)
	return appendClock(dst, int(secs-days*86400), t.Nanosecond()/1000)
}

// appendDetails appends the details' key and value fields in bytewise key order.
func (c *Hasher) appendDetails(b []byte, action Action, d map[string]string) []byte {
	slot := &c.keys[keySlot(action)]
	if out, ok := appendKnownKeys(b, *slot, d); ok {
		return out
	}
	c.pairs = c.pairs[:0]
	for k, v := range d {
		c.pairs = append(c.pairs, detailPair{k, v})
	}
	// Insertion sort: details are few (at most MaxDetailKeys), and this allocates nothing.
	for i := 1; i < len(c.pairs); i++ {
		for j := i; j > 0 && c.pairs[j].k < c.pairs[j-1].k; j-- {
			c.pairs[j], c.pairs[j-1] = c.pairs[j-1], c.pairs[j]
		}
	}
	keys := (*slot)[:0]
	for _, p := range c.pairs {
		b = appendField(appendField(b, p.k), p.v)
		keys = append(keys, p.k)
	}
	*slot = keys
	return b
}

// appendKnownKeys appends d's fields in the order of keys when d has exactly those keys.
func appendKnownKeys(b []byte, keys []string, d map[string]string) ([]byte, bool) {
	if len(keys) != len(d) {
		return b, false
	}
	start := len(b)
	for _, k := range keys {
		v, ok := d[k]
		if !ok {
			return b[:start], false
		}
		b = appendField(appendField(b, k), v)
	}
	return b, true
}

// keySlot picks an action's slot in the key list cache; collisions only cost a cache miss.
func keySlot(a Action) int {
	if len(a) == 0 {
		return 0
	}
	return (len(a)*7 + int(a[len(a)-1]) + int(a[len(a)/2])) % keySlots
}

// Chain returns SHA-256(canonical(e) ‖ prev).
func (c *Hasher) Chain(e *Event, prev Hash) Hash {
	b := append(c.Canonical(e), prev[:]...)
	h, b := c.sum(b)
	c.buf = b
	return h
}

// sum returns SHA-256(msg), reusing msg's spare capacity; it returns the buffer for reuse.
//
// An event is a short message (a few hundred bytes), and for those sha256.Sum256 spends as much
// on its separate final call (padding, one more block, copying the state) as on the event's own
// blocks. So the Hasher appends the standard padding (FIPS 180-4 §5.1.1) itself, hashes the
// padded message in one Write, and reads the resulting state, which is the digest, through the
// hash's documented state encoding (encoding.BinaryAppender: "sha\x03", then the eight state
// words big-endian). Should that encoding ever differ, it falls back to sha256.Sum256;
// TestHasherSumIsSHA256 pins the two together.
func (c *Hasher) sum(msg []byte) (Hash, []byte) {
	n := len(msg)
	if c.sha == nil {
		c.sha = sha256.New()
	}
	st, ok := c.sha.(encoding.BinaryAppender)
	if !ok {
		return Hash(sha256.Sum256(msg)), msg
	}
	b := appendSHA256Padding(msg, n)
	c.sha.Reset()
	_, _ = c.sha.Write(b) // hash.Hash.Write never fails
	state, err := st.AppendBinary(c.state[:0])
	c.state = state
	if err != nil || len(state) < len(sha256StateMagic)+sha256.Size || string(state[:len(sha256StateMagic)]) != sha256StateMagic {
		return Hash(sha256.Sum256(msg)), b[:n]
	}
	return Hash(state[len(sha256StateMagic):]), b[:n]
}

// sha256StateMagic starts crypto/sha256's encoding of a SHA-256 state.
const sha256StateMagic = "sha\x03"

// appendSHA256Padding appends SHA-256's padding of an n-byte message: 0x80, zeros up to 56
// bytes mod 64, and the message length in bits as a 64-bit big-endian integer.
func appendSHA256Padding(b []byte, n int) []byte {
	b = append(b, 0x80)
	for len(b)%64 != 56 {
		b = append(b, 0)
	}
	return binary.BigEndian.AppendUint64(b, uint64(n)*8) // #nosec G115 -- n is a slice length
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

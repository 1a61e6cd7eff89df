package audit

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// Limits VerifyBundle enforces on untrusted input.
const (
	maxBundleFiles     = 100000
	maxBundleSmallFile = 16 << 20
	maxBundleLine      = 1 << 20
	maxBundleKeys      = 64
)

// Event lines are decoded and hashed in batches of at most this many lines or bytes, on a
// HashPool, before the walk checks them in order.
const (
	bundleBatchLines = 2048
	bundleBatchBytes = 8 << 20
)

// BundleReport is the result of verifying an export bundle offline.
type BundleReport struct {
	Tenant    string    `json:"tenant"`
	CreatedAt time.Time `json:"created_at"`
	FirstSeq  int64     `json:"first_seq"`
	LastSeq   int64     `json:"last_seq"`
	Events    int64     `json:"events"`
	// Checkpoints is how many checkpoint signatures verified; Matched how many the
	// recomputed chain was compared with and agreed.
	Checkpoints int `json:"checkpoints"`
	Matched     int `json:"matched"`
	// Keys are the bundle's public keys; compare their fingerprints with the published key
	// when KeysTrusted is false.
	Keys []BundleKey `json:"keys"`
	// KeysTrusted is true when trusted keys were given and every bundle key is one of them.
	KeysTrusted bool `json:"keys_trusted"`
	// Damage is the first problem found; nil when the bundle is intact.
	Damage *Damage `json:"damage,omitempty"`
}

// BundleKey is a public key carried by a bundle.
type BundleKey struct {
	ID          string `json:"id"`
	Fingerprint string `json:"fingerprint"`
	Trusted     bool   `json:"trusted"`
}

// OK reports whether the bundle verified.
func (r BundleReport) OK() bool { return r.Damage == nil }

// VerifyBundle checks an export bundle with no database: it recomputes the hash chain from the
// anchor, checks every checkpoint signature and that the chain matches each checkpoint in its
// range, checks every file against the manifest and the manifest's signature, and detects
// events cut from the end (the signed manifest states the last event and hash, and a
// checkpoint inside the range vouches for events up to it). A bundle that starts mid-chain is
// anchored by the manifest's anchor hash, itself checked against a checkpoint at the anchor
// when the bundle carries one.
//
// With trusted keys, only signatures by those keys count; without, the bundle's own keys are
// used and KeysTrusted is false: compare the reported fingerprints with the published key.
// The error is for unreadable or malformed bundles (ErrBundleFormat) and I/O failures;
// tampering is reported in BundleReport.Damage.
//
// Event lines are decoded and hashed on all cores (a HashPool of runtime.GOMAXPROCS(0)
// workers); the chain is still walked in order, so the report is the same as a sequential
// walk's.
func VerifyBundle(r io.Reader, trusted ...PublicKey) (BundleReport, error) {
	return verifyBundle(r, NewHashPool(0, 0), bundleBatchLines, trusted)
}

// verifyBundle is VerifyBundle on the given pool, decoding batchLines event lines at a time.
func verifyBundle(r io.Reader, pool *HashPool, batchLines int, trusted []PublicKey) (BundleReport, error) {
	v := &bundleVerifier{enc: NewHasher(), pool: pool, batchLines: batchLines, trusted: trusted}
	err := v.run(tar.NewReader(r))
	v.rep.Damage = v.damage()
	return v.rep, err
}

type bundleVerifier struct {
	enc     *Hasher
	trusted []PublicKey
	rep     BundleReport
	ring    KeyRing
	files   []ManifestFile
	cps     []CheckpointRef
	tenant  string
	cpFirst *Damage // first bad checkpoint
	chain   *Damage // first chain damage
	bundle  *Damage // first bundle-level damage

	pool       *HashPool
	batch      eventBatch
	batchLines int

	w        *Walker
	pending  *Entry
	pendBad  string
	pendSum  Hash
	pendE    Entry // storage for pending, which must outlive its batch
	firstPrv Hash
	lastSeq  int64
	events   int64
}

func (v *bundleVerifier) damage() *Damage {
	var d *Damage
	for _, c := range []*Damage{v.chain, v.cpFirst} {
		if c != nil && (d == nil || c.Seq < d.Seq) {
			d = c
		}
	}
	if d == nil {
		d = v.bundle
	}
	return d
}

func formatErr(f string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBundleFormat, fmt.Sprintf(f, a...))
}

func (v *bundleVerifier) run(tr *tar.Reader) error {
	next := func() (*tar.Header, error) {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, formatErr("bundle ends early")
		}
		if err != nil {
			return nil, formatErr("not a tar archive: %v", err)
		}
		if h.Typeflag != tar.TypeReg || h.Size < 0 {
			return nil, formatErr("entry %q is not a regular file", truncate(h.Name, 64))
		}
		if len(v.files) >= maxBundleFiles {
			return nil, formatErr("too many files")
		}
		return h, nil
	}
	h, err := next()
	if err != nil {
		return err
	}
	if h.Name != bundleKeys {
		return formatErr("first file is %q, want %s", truncate(h.Name, 64), bundleKeys)
	}
	kb, err := v.readSmall(tr, h)
	if err != nil {
		return err
	}
	if err := v.keys(kb); err != nil {
		return err
	}
	if h, err = next(); err != nil {
		return err
	}
	if h.Name != bundleCheckpoints {
		return formatErr("second file is %q, want %s", truncate(h.Name, 64), bundleCheckpoints)
	}
	if err := v.lines(tr, h, v.checkpoint); err != nil {
		return err
	}
	for i := 1; ; i++ {
		if h, err = next(); err != nil {
			return err
		}
		if h.Name != fmt.Sprintf(bundleEventsFmt, i) {
			break
		}
		if err := v.lines(tr, h, v.event); err != nil {
			return err
		}
	}
	v.endEvents()
	if h.Name != bundleManifest {
		return formatErr("unexpected file %q", truncate(h.Name, 64))
	}
	mb, err := v.readRaw(tr, h)
	if err != nil {
		return err
	}
	if h, err = next(); err != nil {
		return err
	}
	if h.Name != bundleManifestSig {
		return formatErr("unexpected file %q, want %s", truncate(h.Name, 64), bundleManifestSig)
	}
	sig, err := v.readRaw(tr, h)
	if err != nil {
		return err
	}
	if _, err := tr.Next(); !errors.Is(err, io.EOF) {
		return formatErr("data after %s", bundleManifestSig)
	}
	return v.manifest(mb, sig)
}

// readSmall reads a whole small file and records it for the manifest check.
func (v *bundleVerifier) readSmall(tr *tar.Reader, h *tar.Header) ([]byte, error) {
	b, err := v.readRaw(tr, h)
	if err != nil {
		return nil, err
	}
	s := sha256.Sum256(b)
	v.files = append(v.files, ManifestFile{Name: h.Name, Size: int64(len(b)), SHA256: hex.EncodeToString(s[:])})
	return b, nil
}

func (v *bundleVerifier) readRaw(tr *tar.Reader, h *tar.Header) ([]byte, error) {
	if h.Size > maxBundleSmallFile {
		return nil, formatErr("%s is too large", h.Name)
	}
	b, err := io.ReadAll(io.LimitReader(tr, maxBundleSmallFile+1))
	if err != nil {
		return nil, formatErr("read %s: %v", h.Name, err)
	}
	return b, nil
}

// lines streams a JSON-lines file through fn, hashing it for the manifest check.
func (v *bundleVerifier) lines(tr *tar.Reader, h *tar.Header, fn func([]byte)) error {
	sum := sha256.New()
	cr := &countReader{r: io.TeeReader(tr, sum)}
	sc := bufio.NewScanner(cr)
	sc.Buffer(make([]byte, 0, 64<<10), maxBundleLine)
	for sc.Scan() {
		fn(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		return formatErr("read %s: %v", h.Name, err)
	}
	v.files = append(v.files, ManifestFile{Name: h.Name, Size: cr.n, SHA256: hex.EncodeToString(sum.Sum(nil))})
	return nil
}

func (v *bundleVerifier) keys(b []byte) error {
	var doc struct {
		Keys []struct {
			ID        string `json:"id"`
			Algorithm string `json:"algorithm"`
			PublicKey string `json:"public_key"`
		} `json:"keys"`
	}
	if err := strictUnmarshal(b, &doc); err != nil {
		return formatErr("%s: %v", bundleKeys, err)
	}
	if len(doc.Keys) == 0 || len(doc.Keys) > maxBundleKeys {
		return formatErr("%s must list 1 to %d keys", bundleKeys, maxBundleKeys)
	}
	v.ring = KeyRing{}
	allTrusted := len(v.trusted) > 0
	for _, k := range doc.Keys {
		raw, err := base64.StdEncoding.DecodeString(k.PublicKey)
		if err != nil || len(raw) != ed25519.PublicKeySize || k.Algorithm != "ed25519" || k.ID == "" {
			return formatErr("%s: key %q is not an Ed25519 public key", bundleKeys, truncate(k.ID, 64))
		}
		pk := PublicKey{ID: k.ID, Key: ed25519.PublicKey(raw)}
		ok := len(v.trusted) == 0 || slices.ContainsFunc(v.trusted, func(t PublicKey) bool { return bytes.Equal(t.Key, raw) })
		if len(v.trusted) > 0 && ok {
			v.ring[k.ID] = pk.Key
		} else if len(v.trusted) == 0 {
			v.ring[k.ID] = pk.Key
		}
		allTrusted = allTrusted && ok
		v.rep.Keys = append(v.rep.Keys, BundleKey{ID: k.ID, Fingerprint: pk.Fingerprint(), Trusted: len(v.trusted) > 0 && ok})
	}
	v.rep.KeysTrusted = allTrusted
	return nil
}

func (v *bundleVerifier) checkpoint(line []byte) {
	var c Checkpoint
	if err := strictUnmarshal(line, &c); err != nil {
		v.noteBundle("a checkpoint line is malformed: " + truncate(err.Error(), 120))
		return
	}
	if v.tenant == "" {
		v.tenant = c.Tenant
	}
	if c.Tenant != v.tenant {
		v.noteBundle("checkpoints of more than one tenant")
		return
	}
	if n := len(v.cps); n > 0 && c.Seq <= v.cps[n-1].Seq {
		v.noteBundle("checkpoints are not in increasing order")
		return
	}
	if err := v.ring.Verify(c.KeyID, c.Message(), c.Signature); err != nil {
		if v.cpFirst == nil {
			v.cpFirst = &Damage{Kind: DamageCheckpoint, Seq: c.Seq, CheckpointSeq: c.Seq, Detail: fmt.Sprintf("checkpoint at %d: %v", c.Seq, err)}
		}
		return
	}
	v.cps = append(v.cps, CheckpointRef{Seq: c.Seq, Head: c.Head})
	v.rep.Checkpoints++
}

// eventBatch holds event lines until they are decoded and hashed together.
type eventBatch struct {
	data    []byte // the lines, back to back
	ends    []int  // ends[i] is the end of line i in data
	entries []Entry
	bads    []string // why line i could not be decoded; "" when it was
	sums    []Hash   // Hasher.Sum of entry i, when it was decoded
}

func (b *eventBatch) line(i int) []byte {
	from := 0
	if i > 0 {
		from = b.ends[i-1]
	}
	return b.data[from:b.ends[i]]
}

// event queues an event line; a full batch is decoded, hashed and walked.
func (v *bundleVerifier) event(line []byte) {
	b := &v.batch
	b.data = append(b.data, line...)
	b.ends = append(b.ends, len(b.data))
	if len(b.ends) >= v.batchLines || len(b.data) >= bundleBatchBytes {
		v.flushEvents()
	}
}

// flushEvents decodes and hashes the queued lines on the pool, then walks them in order.
func (v *bundleVerifier) flushEvents() {
	b := &v.batch
	n := len(b.ends)
	if n == 0 {
		return
	}
	b.entries = slices.Grow(b.entries[:0], n)[:n]
	b.bads = slices.Grow(b.bads[:0], n)[:n]
	b.sums = slices.Grow(b.sums[:0], n)[:n]
	hash := v.chain == nil // after the first damage the walk stops; lines are only counted
	v.pool.Each(n, func(h *Hasher, i int) {
		e := &b.entries[i]
		*e = Entry{}
		b.bads[i] = ""
		if err := strictUnmarshal(b.line(i), e); err != nil {
			b.bads[i] = "event line is malformed: " + truncate(err.Error(), 120)
			*e = Entry{}
			return
		}
		if hash {
			b.sums[i] = h.Sum(e)
		}
	})
	for i := range n {
		v.decoded(&b.entries[i], b.bads[i], b.sums[i])
	}
	b.data, b.ends = b.data[:0], b.ends[:0]
}

// decoded takes the next event in order; sum is Hasher.Sum(e) when e was decoded.
func (v *bundleVerifier) decoded(e *Entry, bad string, sum Hash) {
	if bad != "" && v.pending != nil {
		e.Seq = v.pending.Seq + 1
	}
	if v.tenant == "" {
		v.tenant = e.Tenant
	}
	if bad == "" && e.Tenant != v.tenant {
		bad = "event of another tenant"
	}
	if v.pending != nil {
		v.step(e, bad == "")
	} else if v.w == nil {
		v.firstPrv = e.PrevHash
		anchor := e.PrevHash
		for _, c := range v.cps {
			if c.Seq == e.Seq-1 {
				anchor = c.Head // a signed checkpoint vouches for the anchor
			}
		}
		v.w = NewWalker(v.enc, e.Seq, anchor, v.cps)
		v.rep.FirstSeq = e.Seq
	}
	v.pendE, v.pendBad, v.pendSum = *e, bad, sum
	v.pending = &v.pendE
}

// step walks the pending entry with e as its look-ahead.
func (v *bundleVerifier) step(ahead *Entry, aheadOK bool) {
	if v.pending == nil || v.chain != nil {
		return
	}
	if !aheadOK {
		ahead = nil
	}
	if d := v.w.StepSum(v.pending, ahead, v.pendBad, v.pendSum); d != nil {
		v.chain = d
	}
	v.lastSeq = v.pending.Seq
	v.events++
}

func (v *bundleVerifier) endEvents() {
	v.flushEvents()
	v.step(nil, false)
	v.pending = nil
	v.rep.Events = v.events
	v.rep.LastSeq = v.lastSeq
	if v.w != nil {
		v.rep.Matched = v.w.Matched()
	}
}

func (v *bundleVerifier) noteBundle(detail string) {
	if v.bundle == nil {
		v.bundle = &Damage{Kind: DamageBundle, Detail: detail}
	}
}

func (v *bundleVerifier) manifest(mb, sig []byte) error {
	var m Manifest
	if err := strictUnmarshal(mb, &m); err != nil {
		return formatErr("%s: %v", bundleManifest, err)
	}
	if m.Format != BundleFormat {
		return formatErr("format %q, want %s", truncate(m.Format, 64), BundleFormat)
	}
	v.rep.Tenant = m.Tenant
	if t, err := parseCanonicalTime(m.CreatedAt); err == nil {
		v.rep.CreatedAt = t
	}
	if err := v.ring.Verify(m.KeyID, mb, sig); err != nil {
		v.noteBundle("manifest signature: " + err.Error())
		return nil
	}
	if !slices.Equal(m.Files, v.files) {
		v.noteBundle("files differ from the manifest (" + v.fileDiff(m.Files) + ")")
	}
	if v.tenant != "" && m.Tenant != v.tenant {
		v.noteBundle("manifest names another tenant")
	}
	v.manifestRange(m)
	return nil
}

// manifestRange compares the events read with the range the signed manifest states.
func (v *bundleVerifier) manifestRange(m Manifest) {
	if m.Events != v.events || (v.events > 0 && (m.FirstSeq != v.rep.FirstSeq || m.LastSeq != v.lastSeq)) {
		if v.chain == nil && v.events < m.Events && v.events > 0 {
			v.chain = &Damage{Kind: DamageTruncated, Seq: v.lastSeq + 1, Detail: fmt.Sprintf("the signed manifest lists events %d to %d but the bundle ends at %d", m.FirstSeq, m.LastSeq, v.lastSeq)}
			return
		}
		v.noteBundle(fmt.Sprintf("the manifest lists %d events (%d to %d) but the bundle holds %d", m.Events, m.FirstSeq, m.LastSeq, v.events))
		return
	}
	if v.events == 0 {
		return
	}
	switch {
	case m.Anchor.Seq != m.FirstSeq-1 || m.Anchor.Hash != v.firstPrv:
		v.noteBundle("the manifest's anchor is not what the first event follows")
	case m.FirstSeq == 1 && !m.Anchor.Hash.IsZero():
		v.noteBundle("a chain starting at 1 must follow the genesis hash")
	case m.Last.Seq != v.lastSeq || (v.chain == nil && m.Last.Hash != v.w.Prev()):
		v.noteBundle("the manifest's last hash disagrees with the events")
	}
	if cp, ok := v.w.PendingCheckpoint(); ok && v.chain == nil && cp.Seq <= m.LastSeq {
		v.chain = &Damage{Kind: DamageTruncated, Seq: v.lastSeq + 1, CheckpointSeq: cp.Seq, Detail: fmt.Sprintf("a signed checkpoint vouches for events up to %d but the bundle ends at %d", cp.Seq, v.lastSeq)}
	}
}

func (v *bundleVerifier) fileDiff(want []ManifestFile) string {
	for i := 0; i < max(len(want), len(v.files)); i++ {
		switch {
		case i >= len(want):
			return v.files[i].Name + " is not listed"
		case i >= len(v.files):
			return want[i].Name + " is missing"
		case want[i] != v.files[i]:
			return want[i].Name + " was changed"
		}
	}
	return "order"
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

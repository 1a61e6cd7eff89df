package audit

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// Bundle file names and format (CANONICAL.md describes them).
const (
	BundleFormat        = "parley.audit.bundle.v1"
	bundleKeys          = "keys.json"
	bundleCheckpoints   = "checkpoints.jsonl"
	bundleEventsFmt     = "events-%06d.jsonl"
	bundleManifest      = "manifest.json"
	bundleManifestSig   = "manifest.sig"
	bundleEventsPerFile = 10000
)

// Manifest describes an export bundle; its exact bytes are signed into manifest.sig.
type Manifest struct {
	Format    string `json:"format"`
	Tenant    string `json:"tenant"`
	From      string `json:"from"`
	To        string `json:"to"`
	CreatedAt string `json:"created_at"`
	// FirstSeq..LastSeq is the range of events in the bundle (0, 0 when empty).
	FirstSeq int64 `json:"first_seq"`
	LastSeq  int64 `json:"last_seq"`
	Events   int64 `json:"events"`
	// Anchor is the hash the first event follows: the hash of event FirstSeq-1, or the
	// genesis (zero) hash when FirstSeq is 1.
	Anchor SeqHash `json:"anchor"`
	// Last is the hash of event LastSeq.
	Last SeqHash `json:"last"`
	// ChainHead is the tenant's chain head when the bundle was made.
	ChainHead SeqHash        `json:"chain_head"`
	KeyID     string         `json:"key_id"`
	Files     []ManifestFile `json:"files"`
}

// SeqHash pairs a sequence number with a chain hash.
type SeqHash struct {
	Seq  int64 `json:"seq"`
	Hash Hash  `json:"hash"`
}

// ManifestFile is one file of the bundle with its size and SHA-256.
type ManifestFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// BundleInfo summarises a bundle that was written.
type BundleInfo struct {
	Tenant      string `json:"tenant"`
	FirstSeq    int64  `json:"first_seq"`
	LastSeq     int64  `json:"last_seq"`
	Events      int64  `json:"events"`
	Checkpoints int    `json:"checkpoints"`
	// SHA256 is the digest of the whole bundle as written, for the audit record.
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// BundleHeader is what a BundleWriter states about the bundle besides its contents.
type BundleHeader struct {
	Tenant string
	// From and To are the requested time range (zero: unbounded).
	From, To  time.Time
	Created   time.Time
	ChainHead SeqHash
	// Keys are the public keys that verify the bundle's signatures; the signer's is added.
	Keys []PublicKey
}

// BundleWriter writes an export bundle: a tar file of keys.json, checkpoints.jsonl,
// events-NNNNNN.jsonl (10,000 events each) and manifest.json with its signature manifest.sig.
// Add every checkpoint before the first entry, then the entries in seq order, then Close.
type BundleWriter struct {
	tw      *tar.Writer
	cw      *countWriter
	whole   hash.Hash
	signer  Signer
	m       Manifest
	cps     bytes.Buffer
	cpsDone bool
	events  bytes.Buffer
	inFile  int
	files   int
	info    BundleInfo
	mod     time.Time
}

// NewBundleWriter starts a bundle on w, signed by s.
func NewBundleWriter(w io.Writer, h BundleHeader, s Signer) (*BundleWriter, error) {
	b := &BundleWriter{whole: sha256.New(), signer: s, mod: CanonicalTime(h.Created)}
	b.cw = &countWriter{w: io.MultiWriter(w, b.whole)}
	b.tw = tar.NewWriter(b.cw)
	b.m = Manifest{Format: BundleFormat, Tenant: h.Tenant, CreatedAt: b.mod.Format(TimeLayout), ChainHead: h.ChainHead, KeyID: s.KeyID()}
	if !h.From.IsZero() {
		b.m.From = CanonicalTime(h.From).Format(TimeLayout)
	}
	if !h.To.IsZero() {
		b.m.To = CanonicalTime(h.To).Format(TimeLayout)
	}
	b.info.Tenant = h.Tenant
	type wireKey struct {
		ID        string `json:"id"`
		Algorithm string `json:"algorithm"`
		PublicKey string `json:"public_key"`
	}
	var keys struct {
		Keys []wireKey `json:"keys"`
	}
	seen := map[string]bool{}
	for _, k := range append([]PublicKey{{ID: s.KeyID(), Key: s.PublicKey()}}, h.Keys...) {
		if seen[k.ID] {
			continue
		}
		seen[k.ID] = true
		keys.Keys = append(keys.Keys, wireKey{ID: k.ID, Algorithm: "ed25519", PublicKey: base64.StdEncoding.EncodeToString(k.Key)})
	}
	kb, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := b.file(bundleKeys, append(kb, '\n')); err != nil {
		return nil, err
	}
	return b, nil
}

// AddCheckpoint adds a checkpoint; all checkpoints come before the first entry.
func (b *BundleWriter) AddCheckpoint(c Checkpoint) error {
	if b.cpsDone {
		return errors.New("bundle: checkpoints must precede events")
	}
	b.info.Checkpoints++
	return appendJSONLine(&b.cps, c)
}

func (b *BundleWriter) endCheckpoints() error {
	if b.cpsDone {
		return nil
	}
	b.cpsDone = true
	return b.file(bundleCheckpoints, b.cps.Bytes())
}

// AddEntry adds the next entry.
func (b *BundleWriter) AddEntry(e Entry) error {
	if err := b.endCheckpoints(); err != nil {
		return err
	}
	if b.info.Events == 0 {
		b.m.Anchor = SeqHash{Seq: e.Seq - 1, Hash: e.PrevHash}
		b.m.FirstSeq = e.Seq
	}
	if err := appendJSONLine(&b.events, e); err != nil {
		return err
	}
	b.info.Events++
	b.m.Last = SeqHash{Seq: e.Seq, Hash: e.Hash}
	b.m.LastSeq = e.Seq
	if b.inFile++; b.inFile == bundleEventsPerFile {
		return b.flushEvents()
	}
	return nil
}

func (b *BundleWriter) flushEvents() error {
	b.files++
	err := b.file(fmt.Sprintf(bundleEventsFmt, b.files), b.events.Bytes())
	b.events.Reset()
	b.inFile = 0
	return err
}

// Close writes the remaining events, the manifest and its signature, and ends the tar file.
func (b *BundleWriter) Close(ctx context.Context) (BundleInfo, error) {
	if err := b.endCheckpoints(); err != nil {
		return b.info, err
	}
	if b.inFile > 0 {
		if err := b.flushEvents(); err != nil {
			return b.info, err
		}
	}
	b.m.Events = b.info.Events
	b.info.FirstSeq, b.info.LastSeq = b.m.FirstSeq, b.m.LastSeq
	mb, err := json.MarshalIndent(b.m, "", "  ")
	if err != nil {
		return b.info, err
	}
	mb = append(mb, '\n')
	sig, err := signChecked(ctx, b.signer, mb)
	if err != nil {
		return b.info, err
	}
	if err := b.file(bundleManifest, mb); err != nil {
		return b.info, err
	}
	if err := b.file(bundleManifestSig, sig); err != nil {
		return b.info, err
	}
	if err := b.tw.Close(); err != nil {
		return b.info, fmt.Errorf("write bundle: %w", err)
	}
	b.info.SHA256, b.info.Bytes = hex.EncodeToString(b.whole.Sum(nil)), b.cw.n
	return b.info, nil
}

func (b *BundleWriter) file(name string, data []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: b.mod, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
	if err := b.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if _, err := b.tw.Write(data); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if name != bundleManifest && name != bundleManifestSig {
		s := sha256.Sum256(data)
		b.m.Files = append(b.m.Files, ManifestFile{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(s[:])})
	}
	return nil
}

func appendJSONLine(buf *bytes.Buffer, v json.Marshaler) error {
	b, err := v.MarshalJSON()
	if err != nil {
		return err
	}
	buf.Write(b)
	buf.WriteByte('\n')
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

package audit

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	// FirstSeq..LastSeq is the contiguous range of events in the bundle (0, 0 when empty).
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

// ExportInfo summarises a bundle Export or Archive wrote.
type ExportInfo struct {
	Tenant      string `json:"tenant"`
	FirstSeq    int64  `json:"first_seq"`
	LastSeq     int64  `json:"last_seq"`
	Events      int64  `json:"events"`
	Checkpoints int    `json:"checkpoints"`
	// SHA256 is the digest of the whole bundle as written, for the audit record.
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Export writes a bundle of a tenant's events with from ≤ time < to (zero times are
// unbounded) to w: a tar file holding the public keys, the checkpoints that cover the range
// (and the first one after it), the events as JSON lines, and a manifest of every file's
// SHA-256, signed. VerifyBundle checks it without a database. The range is widened to whole
// sequence numbers: the bundle holds every event from the first at or after from to the last
// before to, so it is contiguous even if clocks of different nodes disagreed slightly. A
// range with no events gives a valid, empty bundle. The caller records ActionAuditExport.
func (l *Log) Export(ctx context.Context, w io.Writer, tenant string, from, to time.Time) (ExportInfo, error) {
	first, last, err := l.seqRange(ctx, tenant, from, to)
	if err != nil {
		return ExportInfo{}, err
	}
	return l.exportRange(ctx, w, tenant, first, last, from, to)
}

// seqRange maps a time range to the sequence numbers it spans (0, 0 when empty).
func (l *Log) seqRange(ctx context.Context, tenant string, from, to time.Time) (int64, int64, error) {
	fromUs, toUs := int64(-1<<63), maxSeq
	if !from.IsZero() {
		fromUs = CanonicalTime(from).UnixMicro()
	}
	if !to.IsZero() {
		toUs = CanonicalTime(to).UnixMicro()
	}
	var lo, hi sql.NullInt64
	q := rebind(l.db.Dialect, "SELECT (SELECT MIN(seq) FROM audit_events WHERE tenant_id = ? AND at_us >= ?), (SELECT MAX(seq) FROM audit_events WHERE tenant_id = ? AND at_us < ?)")
	if err := l.sql.QueryRowContext(ctx, q, tenant, fromUs, tenant, toUs).Scan(&lo, &hi); err != nil {
		return 0, 0, fmt.Errorf("find export range: %w", err)
	}
	if !lo.Valid || !hi.Valid || lo.Int64 > hi.Int64 {
		return 0, 0, nil
	}
	return lo.Int64, hi.Int64, nil
}

// exportRange writes the bundle of events first..last (0, 0: empty).
func (l *Log) exportRange(ctx context.Context, out io.Writer, tenant string, first, last int64, from, to time.Time) (ExportInfo, error) {
	info := ExportInfo{Tenant: tenant, FirstSeq: first, LastSeq: last}
	whole := sha256.New()
	cw := &countWriter{w: io.MultiWriter(out, whole)}
	tw := tar.NewWriter(cw)
	created := l.nowUTC()
	headSeq, headHash, err := l.Head(ctx, tenant)
	if err != nil {
		return info, err
	}
	m := Manifest{Format: BundleFormat, Tenant: tenant, CreatedAt: created.Format(TimeLayout), FirstSeq: first, LastSeq: last,
		ChainHead: SeqHash{Seq: headSeq, Hash: headHash}, KeyID: l.signer.KeyID()}
	if !from.IsZero() {
		m.From = CanonicalTime(from).Format(TimeLayout)
	}
	if !to.IsZero() {
		m.To = CanonicalTime(to).Format(TimeLayout)
	}
	bw := &bundleWriter{tw: tw, mod: created}

	// keys.json
	type wireKey struct {
		ID        string `json:"id"`
		Algorithm string `json:"algorithm"`
		PublicKey string `json:"public_key"`
	}
	var keys struct {
		Keys []wireKey `json:"keys"`
	}
	for _, k := range l.TrustedKeys() {
		keys.Keys = append(keys.Keys, wireKey{ID: k.ID, Algorithm: "ed25519", PublicKey: base64.StdEncoding.EncodeToString(k.Key)})
	}
	kb, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		return info, err
	}
	if err := bw.file(bundleKeys, append(kb, '\n')); err != nil {
		return info, err
	}

	// checkpoints.jsonl: those covering first-1..last, and the first one after last.
	var cpBuf bytes.Buffer
	if last > 0 {
		after := first - 2
		for {
			cps, err := l.checkpointsBetween(ctx, tenant, after, last, 1000)
			if err != nil {
				return info, err
			}
			for _, c := range cps {
				if err := appendJSONLine(&cpBuf, c); err != nil {
					return info, err
				}
				info.Checkpoints++
			}
			if len(cps) < 1000 {
				break
			}
			after = cps[len(cps)-1].Seq
		}
		next, err := l.checkpointsBetween(ctx, tenant, last, maxSeq, 1)
		if err != nil {
			return info, err
		}
		for _, c := range next {
			if err := appendJSONLine(&cpBuf, c); err != nil {
				return info, err
			}
			info.Checkpoints++
		}
	}
	if err := bw.file(bundleCheckpoints, cpBuf.Bytes()); err != nil {
		return info, err
	}

	// events-NNNNNN.jsonl
	if last > 0 {
		var (
			buf   bytes.Buffer
			n     int
			files int
		)
		flush := func() error {
			files++
			err := bw.file(fmt.Sprintf(bundleEventsFmt, files), buf.Bytes())
			buf.Reset()
			n = 0
			return err
		}
		it := l.iterate(tenant, first, last)
		for {
			cur, _, err := it.next(ctx)
			if err != nil {
				return info, err
			}
			if cur == nil {
				break
			}
			if info.Events == 0 {
				m.Anchor = SeqHash{Seq: cur.Seq - 1, Hash: cur.PrevHash}
			}
			if err := appendJSONLine(&buf, cur.Entry); err != nil {
				return info, err
			}
			info.Events++
			m.Last = SeqHash{Seq: cur.Seq, Hash: cur.Hash}
			if n++; n == bundleEventsPerFile {
				if err := flush(); err != nil {
					return info, err
				}
			}
		}
		if n > 0 {
			if err := flush(); err != nil {
				return info, err
			}
		}
	}
	m.Events = info.Events
	if info.Events > 0 {
		// The database may be damaged; the bundle states what it holds, and
		// VerifyBundle then reports the damage.
		m.FirstSeq, m.LastSeq = m.Anchor.Seq+1, m.Last.Seq
		info.FirstSeq, info.LastSeq = m.FirstSeq, m.LastSeq
	} else {
		m.FirstSeq, m.LastSeq = 0, 0
		info.FirstSeq, info.LastSeq = 0, 0
	}
	m.Files = bw.files
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return info, err
	}
	mb = append(mb, '\n')
	sig, err := signChecked(ctx, l.signer, mb)
	if err != nil {
		return info, err
	}
	if err := bw.file(bundleManifest, mb); err != nil {
		return info, err
	}
	if err := bw.file(bundleManifestSig, sig); err != nil {
		return info, err
	}
	if err := tw.Close(); err != nil {
		return info, fmt.Errorf("write bundle: %w", err)
	}
	info.SHA256, info.Bytes = hex.EncodeToString(whole.Sum(nil)), cw.n
	return info, nil
}

type bundleWriter struct {
	tw    *tar.Writer
	mod   time.Time
	files []ManifestFile
}

func (b *bundleWriter) file(name string, data []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: b.mod, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
	if err := b.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if _, err := b.tw.Write(data); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if name != bundleManifest && name != bundleManifestSig {
		s := sha256.Sum256(data)
		b.files = append(b.files, ManifestFile{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(s[:])})
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

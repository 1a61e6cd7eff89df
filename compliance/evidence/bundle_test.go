package evidence

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/audit"
)

// newGenerator returns a generator over the compliant values, signing with a key file, whose
// audit export is a real, empty signed audit bundle.
func newGenerator(t *testing.T) (*Generator, *audit.FileSigner) {
	t.Helper()
	s, err := audit.LoadOrCreateFileSigner(filepath.Join(t.TempDir(), "k.key"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, v := compliant()
	g := &Generator{
		Sources: Sources{Platform: p, Accounts: v, Reviews: v, Keys: v, Audit: v, Scans: v, Sites: v, Retention: v},
		Signer:  s,
		ExportAudit: func(ctx context.Context, w io.Writer, tenant string, from, to time.Time) (audit.BundleInfo, error) {
			bw, err := audit.NewBundleWriter(w, audit.BundleHeader{Tenant: tenant, From: from, To: to, Created: testNow}, s)
			if err != nil {
				return audit.BundleInfo{}, err
			}
			return bw.Close(ctx)
		},
		Now: func() time.Time { return testNow },
	}
	return g, s
}

func period() Period {
	return Period{Tenant: "t1", Organisation: "Acme Bank", Framework: PCI, From: testNow.AddDate(0, -1, 0), To: testNow, By: "auditor@example.test"}
}

func TestBundleVerifies(t *testing.T) {
	g, s := newGenerator(t)
	var b bytes.Buffer
	info, err := g.Write(context.Background(), &b, period())
	if err != nil {
		t.Fatal(err)
	}
	if info.Report.Summary.Fail != 0 || info.Report.Summary.Pass == 0 || info.Report.Summary.Manual == 0 {
		t.Fatalf("summary of a compliant organisation: %+v", info.Report.Summary)
	}
	rep, err := Verify(bytes.NewReader(b.Bytes()), audit.PublicKey{ID: s.KeyID(), Key: s.PublicKey()})
	if err != nil || !rep.KeysTrusted || len(rep.Manifest.Files) != 8 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	// Without a trusted key the bundle's own key is used, and said so.
	if rep, err := Verify(bytes.NewReader(b.Bytes())); err != nil || rep.KeysTrusted {
		t.Fatalf("verify without trusted key: %+v %v", rep, err)
	}
	// Another published key is refused.
	other, _ := audit.LoadOrCreateFileSigner(filepath.Join(t.TempDir(), "o.key"), rand.Reader)
	var fe *FileError
	if _, err := Verify(bytes.NewReader(b.Bytes()), audit.PublicKey{ID: other.KeyID(), Key: other.PublicKey()}); !errors.As(err, &fe) || fe.File != FileManifest {
		t.Fatalf("verify under another key: %v", err)
	}
}

func TestEmptyPeriodSaysSo(t *testing.T) {
	g, _ := newGenerator(t)
	var b bytes.Buffer
	info, err := g.Write(context.Background(), &b, period())
	if err != nil {
		t.Fatal(err)
	}
	if info.Report.Events != 0 || !strings.Contains(info.Report.NoEvents, "No audit events") {
		t.Fatalf("report: %+v", info.Report)
	}
	files := readTar(t, b.Bytes())
	if !bytes.Contains(files[FileReportHTML], []byte("No audit events were recorded in this period")) {
		t.Fatal("the HTML does not say the period has no events")
	}
	var r Report
	if err := json.Unmarshal(files[FileReportJSON], &r); err != nil || r.NoEvents == "" {
		t.Fatalf("report.json: %v %+v", err, r)
	}
	if !bytes.HasPrefix(files[FileReportPDF], []byte("%PDF-")) {
		t.Fatal("report.pdf is not a PDF")
	}
}

func TestHTMLSelfContained(t *testing.T) {
	g, _ := newGenerator(t)
	var b bytes.Buffer
	if _, err := g.Write(context.Background(), &b, period()); err != nil {
		t.Fatal(err)
	}
	html := string(readTar(t, b.Bytes())[FileReportHTML])
	for _, bad := range []string{"<script", "src=", "<link", "@import", "url(", "http://", "https://"} {
		if strings.Contains(html, bad) {
			t.Errorf("report.html holds %q", bad)
		}
	}
	for _, want := range []string{"8.3.6-8.3.7", "<svg", "<caption>"} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// TestTamperedFileNamed changes one byte in each file of the bundle in turn: verification fails
// and names the file.
func TestTamperedFileNamed(t *testing.T) {
	g, s := newGenerator(t)
	var b bytes.Buffer
	if _, err := g.Write(context.Background(), &b, period()); err != nil {
		t.Fatal(err)
	}
	key := audit.PublicKey{ID: s.KeyID(), Key: s.PublicKey()}
	names := tarNames(t, b.Bytes())
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			tampered := rewrite(t, b.Bytes(), name)
			_, err := Verify(bytes.NewReader(tampered), key)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("tampered %s verified: %v", name, err)
			}
			want := name
			if name == FileManifestSig {
				want = FileManifest // the signature over the manifest no longer verifies
			}
			if fe.File != want {
				t.Fatalf("tampered %s, error names %s: %v", name, fe.File, err)
			}
		})
	}
	if users := readTar(t, b.Bytes())[FileUsers]; !bytes.Contains(users, []byte("Olive Owner")) {
		t.Error("the users artifact does not list the users")
	}
	// A byte changed anywhere in the file fails too.
	for off := 0; off < b.Len(); off += b.Len() / 97 {
		raw := bytes.Clone(b.Bytes())
		raw[off] ^= 0x01
		if _, err := Verify(bytes.NewReader(raw), key); err == nil && !bytes.Equal(raw, b.Bytes()) {
			// Tar header padding and the end blocks carry no data: a change there is harmless.
			if fileAt(t, b.Bytes(), off) != "" {
				t.Errorf("byte %d (in %s) changed and the bundle still verifies", off, fileAt(t, b.Bytes(), off))
			}
		}
	}
}

func readTar(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name], _ = io.ReadAll(tr)
	}
}

func tarNames(t *testing.T, b []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}

// rewrite copies the bundle with one byte of the named file changed.
func rewrite(t *testing.T, b []byte, name string) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if h.Name == name {
			data[len(data)/2] ^= 0x20
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(data)
	}
	_ = tw.Close()
	return out.Bytes()
}

// fileAt names the file whose content holds byte off of the tar, or "" for headers and padding.
func fileAt(t *testing.T, b []byte, off int) string {
	t.Helper()
	cr := &countReader{r: bytes.NewReader(b)}
	tr := tar.NewReader(cr)
	for {
		h, err := tr.Next()
		if err != nil {
			return ""
		}
		start := int(cr.n)
		if off >= start && off < start+int(h.Size) {
			return h.Name
		}
	}
}

type countReader struct {
	r *bytes.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

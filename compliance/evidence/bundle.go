package evidence

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/parleyhq/parley/audit"
)

// Bundle format and file names.
const (
	BundleFormat = "parley.evidence.bundle.v1"
	// signContext prefixes the manifest's bytes in the signed message, so an evidence
	// signature can never pass for an audit bundle's or a checkpoint's.
	signContext = "parley.evidence.manifest.v1\n"

	FileReportJSON    = "report.json"
	FileReportHTML    = "report.html"
	FileReportPDF     = "report.pdf"
	FileConfiguration = "artifacts/configuration.json"
	FileUsers         = "artifacts/users-and-roles.json"
	FileAuditVerify   = "artifacts/audit-verification.json"
	FileScan          = "artifacts/pan-scan.json"
	FileAuditExport   = "artifacts/audit-export.tar"
	FileManifest      = "manifest.json"
	FileManifestSig   = "manifest.sig"

	// maxFile bounds each file a verifier reads into memory.
	maxFile = 1 << 30
)

// Manifest lists the bundle's files with their sizes and SHA-256; its exact bytes are signed
// into manifest.sig (prefixed with the evidence signing context).
type Manifest struct {
	Format       string    `json:"format"`
	Tenant       string    `json:"tenant"`
	Organisation string    `json:"organisation"`
	Framework    Framework `json:"framework"`
	From         string    `json:"from"`
	To           string    `json:"to"`
	CreatedAt    string    `json:"created_at"`
	Events       int64     `json:"events"`
	Summary      Summary   `json:"summary"`
	KeyID        string    `json:"key_id"`
	// PublicKey is the signing key (PEM); compare it with the published key (--trusted-key).
	PublicKey string               `json:"public_key"`
	Files     []audit.ManifestFile `json:"files"`
}

// Generator writes evidence bundles.
type Generator struct {
	Sources Sources
	// Signer signs the manifest: the audit log's checkpoint signer (Vault transit or the key
	// file), so the published audit key verifies evidence too.
	Signer audit.Signer
	// ExportAudit writes the signed audit export of the tenant's events with from <= time < to.
	ExportAudit func(ctx context.Context, w io.Writer, tenant string, from, to time.Time) (audit.BundleInfo, error)
	Now         func() time.Time
	// Progress, when set, hears how far Write got: a stage name and a percentage below 100.
	Progress func(stage string, percent int)
}

func (g *Generator) progress(stage string, pct int) {
	if g.Progress != nil {
		g.Progress(stage, pct)
	}
}

// Info describes a bundle written.
type Info struct {
	Report Report
	SHA256 string
	Bytes  int64
}

// Write evaluates the framework's controls for the period and writes the bundle to w: the
// report (JSON, HTML, PDF), the artifacts and the signed manifest.
func (g *Generator) Write(ctx context.Context, w io.Writer, p Period) (Info, error) {
	if g.Signer == nil || g.ExportAudit == nil || g.Now == nil {
		return Info{}, errors.New("evidence: generator needs a signer, an audit export and a clock")
	}
	if !p.To.IsZero() && !p.From.IsZero() && !p.From.Before(p.To) {
		return Info{}, errors.New("evidence: the period must end after it starts")
	}
	now := g.Now().UTC()
	var export bytes.Buffer
	g.progress("exporting the audit log", 5)
	info, err := g.ExportAudit(ctx, &export, p.Tenant, p.From, p.To)
	if err != nil {
		return Info{}, fmt.Errorf("evidence: audit export: %w", err)
	}
	g.progress("running the checks", 40)
	src := g.Sources
	src.Audit = &onceChain{src: src.Audit}
	in := Input{Tenant: p.Tenant, Now: now, Sources: src}
	rep := Evaluate(ctx, in, p, info.Events)

	art := artifacts(ctx, in)
	files := []struct {
		name string
		data func() ([]byte, error)
	}{
		{FileReportJSON, func() ([]byte, error) { return json.MarshalIndent(rep, "", "  ") }},
		{FileReportHTML, func() ([]byte, error) { return HTML(rep) }},
		{FileReportPDF, func() ([]byte, error) { return PDF(rep) }},
		{FileConfiguration, func() ([]byte, error) { return json.MarshalIndent(art.config, "", "  ") }},
		{FileUsers, func() ([]byte, error) { return json.MarshalIndent(art.users, "", "  ") }},
		{FileAuditVerify, func() ([]byte, error) { return json.MarshalIndent(art.chain, "", "  ") }},
		{FileScan, func() ([]byte, error) { return json.MarshalIndent(art.scan, "", "  ") }},
		{FileAuditExport, func() ([]byte, error) { return export.Bytes(), nil }},
	}
	m := Manifest{Format: BundleFormat, Tenant: p.Tenant, Organisation: p.Organisation, Framework: p.Framework,
		CreatedAt: now.Format(time.RFC3339), Events: info.Events, Summary: rep.Summary,
		KeyID: g.Signer.KeyID(), PublicKey: string(audit.MarshalPublicKeyPEM(g.Signer.PublicKey()))}
	if !p.From.IsZero() {
		m.From = p.From.UTC().Format(time.RFC3339)
	}
	if !p.To.IsZero() {
		m.To = p.To.UTC().Format(time.RFC3339)
	}
	whole := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, whole)}
	tw := tar.NewWriter(cw)
	put := func(name string, data []byte) error {
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: now, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for i, f := range files {
		g.progress("writing "+f.name, 60+35*i/len(files))
		data, err := f.data()
		if err != nil {
			return Info{}, fmt.Errorf("evidence: %s: %w", f.name, err)
		}
		if err := put(f.name, data); err != nil {
			return Info{}, fmt.Errorf("evidence: write bundle: %w", err)
		}
		s := sha256.Sum256(data)
		m.Files = append(m.Files, audit.ManifestFile{Name: f.name, Size: int64(len(data)), SHA256: hex.EncodeToString(s[:])})
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Info{}, err
	}
	g.progress("signing the manifest", 97)
	sig, err := g.Signer.Sign(ctx, append([]byte(signContext), mb...))
	if err != nil {
		return Info{}, fmt.Errorf("evidence: sign the manifest: %w", err)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(g.Signer.PublicKey(), append([]byte(signContext), mb...), sig) {
		return Info{}, errors.New("evidence: the manifest signature does not verify under the signer's key")
	}
	if err := errors.Join(put(FileManifest, mb), put(FileManifestSig, sig), tw.Close()); err != nil {
		return Info{}, fmt.Errorf("evidence: write bundle: %w", err)
	}
	return Info{Report: rep, SHA256: hex.EncodeToString(whole.Sum(nil)), Bytes: cw.n}, nil
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

// onceChain verifies the chain once per report: the check and the artifact share the result.
type onceChain struct {
	src  AuditSource
	done bool
	st   ChainStatus
	err  error
}

func (o *onceChain) VerifyChain(ctx context.Context, tenant string) (ChainStatus, error) {
	if !o.done {
		o.st, o.err = o.src.VerifyChain(ctx, tenant)
		o.done = true
	}
	return o.st, o.err
}

type artifactSet struct {
	config, users, chain, scan any
}

// artifacts reads the snapshot the bundle carries; a source that fails is recorded as its error.
func artifacts(ctx context.Context, in Input) artifactSet {
	errText := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	pol, perr := in.Accounts.Policies(ctx, in.Tenant)
	sites, serr := in.Sites.Sites(ctx, in.Tenant)
	mode, merr := in.Sites.MaskMode(ctx, in.Tenant)
	ret, rerr := in.Retention.RetentionPeriods(ctx, in.Tenant)
	key, kerr := in.Keys.KeyStatus(ctx, in.Tenant)
	people, uerr := in.Accounts.People(ctx, in.Tenant)
	review, verr := in.Reviews.ReviewStatus(ctx, in.Tenant)
	chain, cerr := in.Audit.VerifyChain(ctx, in.Tenant)
	scan, xerr := in.Scans.LastScan(ctx)
	return artifactSet{
		config: map[string]any{"taken_at": in.Now, "platform": in.Platform, "account_policies": pol, "sites": sites, "mask_mode": mode,
			"retention": ret, "key": key, "errors": map[string]string{"account_policies": errText(perr), "sites": errText(serr),
				"mask_mode": errText(merr), "retention": errText(rerr), "key": errText(kerr)}},
		users: map[string]any{"taken_at": in.Now, "people": people, "access_review": review,
			"errors": map[string]string{"people": errText(uerr), "access_review": errText(verr)}},
		chain: map[string]any{"verified_at": in.Now, "chain": chain, "error": errText(cerr)},
		scan:  map[string]any{"read_at": in.Now, "last_scan": scan, "error": errText(xerr)},
	}
}

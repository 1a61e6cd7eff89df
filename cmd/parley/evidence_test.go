package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestEvidenceCommands drives `parley evidence export` and `parley evidence verify` against a
// real database: a bundle for a period with no events says so and verifies offline with the
// published key; a byte changed in any of its files fails and names the file.
func TestEvidenceCommands(t *testing.T) {
	for _, d := range migratetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"PARLEY_DATA_DIR": dir, "PARLEY_DATABASE_URL": migratetest.URL(t, d), "USER": "ops"}
			if r := runCmd(t, env, "", "migrate", "up"); r.code != 0 {
				t.Fatalf("migrate: %+v", r)
			}
			if r := runCmd(t, env, "Tr1cky-Lantern-Harbour\n", "user", "create", "--tenant", "Acme Bank", "--email", "o@acme.test", "--role", "owner", "--password-stdin"); r.code != 0 {
				t.Fatalf("user create: %+v", r)
			}
			for _, bad := range [][]string{
				{"evidence", "export", "--tenant", "acme-bank", "--framework", "sox", "--out", filepath.Join(dir, "x.tar")},
				{"evidence", "export", "--tenant", "acme-bank", "--framework", "pci"},
				{"evidence", "export", "--tenant", "no-such-org", "--framework", "pci", "--out", filepath.Join(dir, "y.tar")},
				{"evidence", "export", "--tenant", "acme-bank", "--framework", "pci", "--from", "2026-02-01", "--to", "2026-01-01", "--out", filepath.Join(dir, "z.tar")},
				{"evidence", "verify"},
			} {
				if r := runCmd(t, env, "", bad...); r.code != 2 {
					t.Errorf("%v: %+v", bad, r)
				}
			}

			// A period long before anything happened: no events, and the report says so.
			empty := filepath.Join(dir, "empty.tar")
			r := runCmd(t, env, "", "evidence", "export", "--tenant", "acme-bank", "--framework", "hipaa", "--from", "2020-01-01", "--to", "2020-02-01", "--out", empty)
			if r.code != 0 || !strings.Contains(r.stdout, "no audit events were recorded") {
				t.Fatalf("export of an empty period: %+v", r)
			}
			if files := tarFiles(t, empty); !bytes.Contains(files["report.html"], []byte("No audit events were recorded in this period")) {
				t.Fatal("the empty period's report does not say so")
			}

			bundle := filepath.Join(dir, "acme-pci.tar")
			r = runCmd(t, env, "", "evidence", "export", "--tenant", "acme-bank", "--framework", "pci", "--out", bundle)
			if r.code != 0 || !strings.Contains(r.stdout, "PCI DSS v4.0.1 evidence for Acme Bank") {
				t.Fatalf("export: %+v", r)
			}
			files := tarFiles(t, bundle)
			// The dev key provider and plain HTTP fail their checks; the owner without MFA is named.
			for _, want := range []string{"key-provider", "plain HTTP", "o@acme.test"} {
				if !bytes.Contains(files["report.json"], []byte(want)) {
					t.Errorf("report.json lacks %q", want)
				}
			}
			if !bytes.Contains(files["artifacts/users-and-roles.json"], []byte("o@acme.test")) {
				t.Error("the users artifact does not list the owner")
			}
			pub := filepath.Join(dir, "audit-signing.pub")
			if r := runCmd(t, nil, "", "evidence", "verify", "--trusted-key", pub, bundle); r.code != 0 || !strings.Contains(r.stdout, "signed with the trusted key") {
				t.Fatalf("verify: %+v", r)
			}
			// Both reports joined the organisation's history, kept six years.
			if n := countReports(t, env["PARLEY_DATABASE_URL"]); n != 2 {
				t.Errorf("%d reports kept, want 2", n)
			}
			// The export is in the audit log, and the chain still verifies.
			if r := runCmd(t, env, "", "audit", "verify", "--tenant", "acme-bank"); r.code != 0 {
				t.Fatalf("audit verify: %+v", r)
			}

			raw, err := os.ReadFile(bundle)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"report.html", "report.pdf", "artifacts/configuration.json", "artifacts/audit-export.tar", "manifest.json"} {
				off := contentOffset(t, raw, name)
				tampered := bytes.Clone(raw)
				tampered[off+10] ^= 0x01
				bad := filepath.Join(dir, "tampered.tar")
				if err := os.WriteFile(bad, tampered, 0o600); err != nil {
					t.Fatal(err)
				}
				r := runCmd(t, nil, "", "evidence", "verify", "--trusted-key", pub, bad)
				if r.code != 1 || !strings.Contains(r.stdout, "DAMAGED — file "+name) {
					t.Errorf("tampered %s: %+v", name, r)
				}
			}
		})
	}
}

func tarFiles(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
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

// contentOffset is where the named file's content starts in the tar.
func contentOffset(t *testing.T, raw []byte, name string) int {
	t.Helper()
	r := bytes.NewReader(raw)
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no %s in the bundle: %v", name, err)
		}
		if h.Name == name {
			return len(raw) - r.Len()
		}
	}
}

// countReports counts the evidence reports kept, beneath row-level security.
func countReports(t *testing.T, dbURL string) int64 {
	t.Helper()
	raw, err := migrations.Open(context.Background(), dbURL, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = raw.Close() }()
	var n int64
	if err := migratetest.Beneath(t, raw).Gorm.Raw("SELECT COUNT(*) FROM evidence_reports").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

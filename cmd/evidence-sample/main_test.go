package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSampleCurrent keeps the committed samples under docs/evidence what `make evidence-sample`
// renders today (the rendering is deterministic: fixed data, clock and PDF catalogue order).
func TestSampleCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sample-pci.html", "sample-pci.pdf", "sample-hipaa.html", "sample-hipaa.pdf"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join("..", "..", "docs", "evidence", name))
		if err != nil || !bytes.Equal(got, committed) {
			t.Errorf("docs/evidence/%s is not current: run `make evidence-sample` (%v)", name, err)
		}
	}
}

// Command evidence-sample renders the sample evidence reports of a demo organisation (PCI DSS
// and HIPAA, HTML and PDF) into a folder, docs/evidence by default, so a buyer can see one:
// `make evidence-sample`.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/parleyhq/parley/compliance/evidence"
)

func main() {
	dir := "docs/evidence"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := write(dir); err != nil {
		fmt.Fprintln(os.Stderr, "evidence-sample:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	for _, f := range []evidence.Framework{evidence.PCI, evidence.HIPAA} {
		r := evidence.Sample(f)
		html, err := evidence.HTML(r)
		if err != nil {
			return err
		}
		pdf, err := evidence.PDF(r)
		if err != nil {
			return err
		}
		for name, data := range map[string][]byte{"sample-" + string(f) + ".html": html, "sample-" + string(f) + ".pdf": pdf} {
			// #nosec G306 -- a published sample, meant to be read by everyone.
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				return err
			}
			fmt.Println("wrote", filepath.Join(dir, name))
		}
	}
	return nil
}

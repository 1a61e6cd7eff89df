package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"

	"github.com/parleyhq/parley/compliance/pan"
)

// runRedact masks card numbers line by line from stdin to stdout and changes nothing else; memory
// stays bounded whatever the line length or content (binary input passes through unchanged).
func runRedact(_ context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("redact", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	mode := fs.String("mode", "bin_last4", "what stays visible: bin_last4 (first 6 and last 4) or last4")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, "usage: parley redact [--mode bin_last4|last4] < in > out")
		return exitUsage
	}
	m, err := pan.ParseMode(*mode)
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: redact: --mode: %v\n", err)
		return exitUsage
	}
	masker, err := pan.NewMasker(pan.Options{Mode: m})
	if err != nil {
		fmt.Fprintf(e.stderr, "parley: redact: %v\n", err)
		return exitUsage
	}
	w := bufio.NewWriterSize(e.stdout, 64<<10)
	if err := pan.RedactStream(e.stdin, w, pan.StreamOptions{Masker: masker}); err != nil {
		fmt.Fprintf(e.stderr, "parley: redact: %v\n", err)
		return exitFailure
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(e.stderr, "parley: redact: %v\n", err)
		return exitFailure
	}
	return exitOK
}

package scan

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ScanFiles scans log files and export folders: each path is a file or a folder walked
// recursively (symbolic links are not followed). Files ending in .gz are read decompressed. Each
// file is one location; a file that cannot be read is reported with its error.
func (s *Scanner) ScanFiles(ctx context.Context, paths []string) ([]Location, error) {
	var files []string
	var total int64
	var out []Location
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				out = append(out, Location{Kind: KindFile, Name: path, Error: errText(err)})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				out = append(out, Location{Kind: KindFile, Name: path, Error: errText(err)})
				return nil
			}
			files = append(files, path)
			total += info.Size()
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	sort.Strings(files)
	pr := s.progress()
	pr.Begin("files", total, "bytes")
	defer pr.End()
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		pr.Item(path)
		loc := Location{Kind: KindFile, Name: path}
		if err := s.scanFile(ctx, path, &loc, pr); err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			loc.Error = errText(err)
		}
		out = append(out, loc)
	}
	return out, nil
}

func (s *Scanner) scanFile(ctx context.Context, path string, loc *Location, pr Progress) error {
	f, err := os.Open(path) // #nosec G304 -- the operator names the files to scan
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	var r io.Reader = f
	advance := pr.Advance
	if strings.HasSuffix(path, ".gz") {
		cr := &countingReader{r: f}
		gz, err := gzip.NewReader(cr)
		if err != nil {
			return err
		}
		defer func() { _ = gz.Close() }()
		r = gz
		// Progress is in compressed bytes read from the file.
		advance = func(int64) { pr.Advance(cr.take()) }
	}
	return s.counter(loc).stream(ctx, r, advance)
}

// countingReader counts bytes read since the last take.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) take() int64 {
	n := c.n
	c.n = 0
	return n
}

// errText is an error's text for a report; path errors keep their operation and path.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + " " + pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

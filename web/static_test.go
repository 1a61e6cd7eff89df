package web

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"testing/fstest"
)

func TestFilesOnly(t *testing.T) {
	fsys := FilesOnly(fstest.MapFS{
		"a.css":        {Data: []byte("a")},
		"sub/b.js":     {Data: []byte("b")},
		"sub/deep/c.x": {Data: []byte("c")},
	})
	for _, name := range []string{"a.css", "sub/b.js", "sub/deep/c.x"} {
		if b, err := fs.ReadFile(fsys, name); err != nil || len(b) != 1 {
			t.Errorf("ReadFile(%s) = %q, %v; want the file", name, b, err)
		}
	}
	for _, name := range []string{".", "sub", "sub/deep", "missing"} {
		if _, err := fsys.Open(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%s) error = %v, want fs.ErrNotExist", name, err)
		}
	}
}

func TestStaticServesNoListing(t *testing.T) {
	tests := []struct {
		path   string
		status int
	}{
		{path: "/static/parley.css", status: http.StatusOK},
		{path: "/static/", status: http.StatusNotFound},
		{path: "/static/missing/", status: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Static().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
		})
	}
}

// TestVendoredLibraries: every vendored file is the one its table in static/vendor/README.md
// names, byte for byte, and ships with its licence.
func TestVendoredLibraries(t *testing.T) {
	readme, err := fs.ReadFile(StaticFiles(), "vendor/README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|.*\\| `([0-9a-f]{64})` \\|$").FindAllStringSubmatch(string(readme), -1)
	if len(rows) == 0 {
		t.Fatal("vendor/README.md lists no file with its digest")
	}
	for _, row := range rows {
		b, err := fs.ReadFile(StaticFiles(), "vendor/"+row[1])
		if err != nil {
			t.Errorf("%s: %v", row[1], err)
			continue
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != row[2] {
			t.Errorf("%s: sha256 %s, want %s", row[1], got, row[2])
		}
	}
	if _, err := fs.ReadFile(StaticFiles(), "vendor/htmx-LICENSE.txt"); err != nil {
		t.Errorf("htmx licence: %v", err)
	}
}

package report

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestReportsReadNoContent keeps the reports on clear columns: neither the package nor its HTTP
// module imports the key provider, the envelope or the chat engine (so nothing can be
// decrypted), and the query names no column that holds what a person typed.
func TestReportsReadNoContent(t *testing.T) {
	forbidden := []string{"github.com/parleyhq/parley/vault", "github.com/parleyhq/parley/app/chat"}
	for _, dir := range []string{".", "reporthttp"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, no := range forbidden {
					if path == no || strings.HasPrefix(path, no+"/") {
						t.Errorf("%s/%s imports %s", dir, name, path)
					}
				}
			}
		}
	}
	content := regexp.MustCompile(`\b(body|data|event|prechat|survey|visitor_name|visitor_email|display_name)\b`)
	if m := content.FindString(reportQuery); m != "" {
		t.Errorf("the report query names the content column %q", m)
	}
}

package chat

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEngineWithoutTransport keeps the engine free of HTTP and WebSocket: neither this package
// nor any package of the module it imports, however indirectly, imports Echo or the WebSocket
// library (package chathttp serves the engine). It reads the import lists of the module's own
// packages (non-test files); third-party packages are not followed.
func TestEngineWithoutTransport(t *testing.T) {
	const module = "github.com/parleyhq/parley/"
	forbidden := []string{"github.com/labstack/echo", "github.com/coder/websocket"}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var visit func(pkg string, via []string)
	visit = func(pkg string, via []string) {
		if seen[pkg] {
			return
		}
		seen[pkg] = true
		dir := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(pkg, module)))
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		fset := token.NewFileSet()
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				chain := append(via[:len(via):len(via)], pkg)
				for _, bad := range forbidden {
					if path == bad || strings.HasPrefix(path, bad+"/") {
						t.Errorf("%s imports %s (through %s)", filepath.Join(pkg, name), path, strings.Join(chain, " → "))
					}
				}
				if strings.HasPrefix(path, module) {
					visit(path, chain)
				}
			}
		}
	}
	visit(module+"app/chat", nil)
	if len(seen) < 5 {
		t.Fatalf("only %d packages read: the check would see nothing", len(seen))
	}
}

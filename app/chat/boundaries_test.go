package chat

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The engine's boundaries, read from its source: SQL only in the store, and no transport.

// goFiles parses the non-test Go files of dir (with mode), by file name.
func goFiles(t *testing.T, fset *token.FileSet, dir string, mode parser.Mode) map[string]*ast.File {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*ast.File{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, mode)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
	}
	return files
}

// importPaths returns the paths a file imports.
func importPaths(f *ast.File) []string {
	out := make([]string, 0, len(f.Imports))
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		out = append(out, path)
	}
	return out
}

// isStoreFile reports whether a file of the package may hold SQL: store.go and store_*.go.
func isStoreFile(name string) bool {
	return name == "store.go" || strings.HasPrefix(name, "store_")
}

// TestSQLOnlyInStores keeps every SQL statement of the chat in its store: outside the store
// files, no file of the package imports GORM, nor reaches a GORM handle by selector — a struct
// field of type *gorm.DB (which only store files declare) or the Gorm field of a
// *migrations.DB. The service calls store methods; the store's write methods run whole
// transactions.
func TestSQLOnlyInStores(t *testing.T) {
	fset := token.NewFileSet()
	files := goFiles(t, fset, ".", parser.SkipObjectResolution)
	handles := map[string]bool{"Gorm": true}
	for name, f := range files {
		if !isStoreFile(name) {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if field, ok := n.(*ast.Field); ok && isGormDB(f, field.Type) {
				for _, id := range field.Names {
					handles[id.Name] = true
				}
			}
			return true
		})
	}
	if len(handles) < 2 {
		t.Fatal("no store field of type *gorm.DB found: the check would see nothing")
	}
	for name, f := range files {
		if isStoreFile(name) {
			continue
		}
		for _, path := range importPaths(f) {
			if strings.HasPrefix(path, "gorm.io/") {
				t.Errorf("%s imports %s: SQL belongs in a store file (store.go, store_*.go)", name, path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && handles[sel.Sel.Name] {
				t.Errorf("%s reaches the database handle .%s: call a store method instead", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}

// isGormDB reports whether expr, in file f, is *gorm.DB.
func isGormDB(f *ast.File, expr ast.Expr) bool {
	star, ok := expr.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "DB" {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok {
		return false
	}
	for _, imp := range f.Imports {
		if path, _ := strconv.Unquote(imp.Path.Value); path == "gorm.io/gorm" {
			return (imp.Name == nil && pkg.Name == "gorm") || (imp.Name != nil && imp.Name.Name == pkg.Name)
		}
	}
	return false
}

// TestEngineWithoutTransport keeps the engine free of HTTP and WebSocket: neither this package
// nor any package of the module it imports, however indirectly, imports Echo or the WebSocket
// library (package chathttp serves the engine). It reads the import lists of the module's own
// packages; third-party packages are not followed.
func TestEngineWithoutTransport(t *testing.T) {
	const module = "github.com/parleyhq/parley/"
	forbidden := []string{"github.com/labstack/echo", "github.com/coder/websocket"}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := map[string]bool{}
	var visit func(pkg string, via []string)
	visit = func(pkg string, via []string) {
		if seen[pkg] {
			return
		}
		seen[pkg] = true
		chain := append(via[:len(via):len(via)], pkg)
		for name, f := range goFiles(t, fset, filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(pkg, module))), parser.ImportsOnly) {
			for _, path := range importPaths(f) {
				for _, bad := range forbidden {
					if path == bad || strings.HasPrefix(path, bad+"/") {
						t.Errorf("%s/%s imports %s (through %s)", pkg, name, path, strings.Join(chain, " → "))
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

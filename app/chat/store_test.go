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

// isStoreFile reports whether a file of the package may hold SQL: store.go and store_*.go.
func isStoreFile(name string) bool {
	return name == "store.go" || (strings.HasPrefix(name, "store_") && !strings.HasSuffix(name, "_test.go"))
}

// TestSQLOnlyInStores keeps every SQL statement of the chat in its store: outside the store
// files, no file of the package imports GORM, nor reaches a GORM handle — a struct field of type
// *gorm.DB (which only store files declare) or the Gorm field of a *migrations.DB — by selector.
// The service calls store methods; the store's write methods run whole transactions.
func TestSQLOnlyInStores(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*ast.File{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(".", name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
	}
	if len(files) == 0 {
		t.Fatal("no Go files read")
	}
	// The names of the fields that hold a *gorm.DB, as store files declare them.
	handles := map[string]bool{"Gorm": true}
	for name, f := range files {
		if !isStoreFile(name) {
			continue
		}
		gormName := importName(f, "gorm.io/gorm")
		ast.Inspect(f, func(n ast.Node) bool {
			field, ok := n.(*ast.Field)
			if !ok || gormName == "" || !isPointerTo(field.Type, gormName, "DB") {
				return true
			}
			for _, id := range field.Names {
				handles[id.Name] = true
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
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "gorm.io/gorm" || strings.HasPrefix(path, "gorm.io/") {
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

// importName returns the name a file uses for an import path ("" when it does not import it).
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p != path {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return path[strings.LastIndex(path, "/")+1:]
	}
	return ""
}

// isPointerTo reports whether expr is *pkg.name.
func isPointerTo(expr ast.Expr, pkg, name string) bool {
	star, ok := expr.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

package app_test

import (
	"bufio"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

var (
	pathLine   = regexp.MustCompile(`^  (/[^:\s]*):\s*$`)
	methodLine = regexp.MustCompile(`^    (get|post|put|patch|delete):\s*$`)
	echoParam  = regexp.MustCompile(`:([A-Za-z_]+)`)
)

// documented reads the (method, path) pairs under `paths:` in docs/openapi.yaml.
func documented(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	out := map[string]bool{}
	inPaths, path := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "paths:":
			inPaths = true
		case inPaths && line != "" && !strings.HasPrefix(line, " "):
			inPaths = false
		case inPaths && pathLine.MatchString(line):
			path = pathLine.FindStringSubmatch(line)[1]
		case inPaths && path != "" && methodLine.MatchString(line):
			out[strings.ToUpper(methodLine.FindStringSubmatch(line)[1])+" "+path] = true
		}
	}
	return out
}

// TestOpenAPIMatchesRoutes keeps docs/openapi.yaml in step with the route table: every API route
// is documented and every documented operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	a := apptest.New(t, migratetest.Open(t, migrations.SQLite), nil)
	docs := documented(t)
	served := map[string]bool{}
	for _, r := range a.Server.Routes {
		if !r.API {
			continue
		}
		key := r.Method + " " + echoParam.ReplaceAllString(r.Path, "{$1}")
		served[key] = true
		if !docs[key] {
			t.Errorf("route %s is not described in docs/openapi.yaml", key)
		}
	}
	var extra []string
	for k := range docs {
		if !served[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		t.Errorf("docs/openapi.yaml describes %s, which the server does not serve", k)
	}
	if len(served) == 0 {
		t.Fatal("no API routes found")
	}
}

// TestAPIRoutesUnderAPIPrefix: JSON routes live under /api/ (or are the health checks and the
// metrics), so the error renderer answers them in JSON.
func TestAPIRoutesUnderAPIPrefix(t *testing.T) {
	a := apptest.New(t, migratetest.Open(t, migrations.SQLite), nil)
	for _, r := range a.Server.Routes {
		if r.API && !strings.HasPrefix(r.Path, "/api/") && r.Path != "/healthz" && r.Path != "/readyz" && r.Path != "/metrics" {
			t.Errorf("API route %s is outside /api/", r.Key())
		}
	}
}

// TestOpenAPIDocumentValid: docs/openapi.yaml loads and validates as an OpenAPI 3.1 document
// (apptest checks every API answer against it, so it must be sound).
func TestOpenAPIDocumentValid(t *testing.T) {
	if _, _, err := apptest.LoadOpenAPI(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenAPISchemasAreSpecific keeps the document from drifting back to bare `{type: object}`:
// every request body and every success answer with a body has a schema that names its fields
// (an object without properties must say what its values are, as a documented free-form map),
// and every error answer is the common Error body.
func TestOpenAPISchemasAreSpecific(t *testing.T) {
	doc, _, err := apptest.LoadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	paths := doc.Paths.Map()
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	for _, p := range keys {
		for method, op := range paths[p].Operations() {
			where := method + " " + p
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for mt, m := range op.RequestBody.Value.Content {
					for _, problem := range vague(m.Schema, "request "+mt) {
						t.Errorf("%s: %s", where, problem)
					}
				}
			}
			success := false
			for status, r := range op.Responses.Map() {
				if r.Value == nil {
					t.Errorf("%s %s: unresolved response", where, status)
					continue
				}
				if strings.HasPrefix(status, "2") || status == "101" {
					success = true
				}
				for mt, m := range r.Value.Content {
					switch {
					case strings.HasPrefix(status, "2"):
						for _, problem := range vague(m.Schema, status+" "+mt) {
							t.Errorf("%s: %s", where, problem)
						}
					case p == "/readyz" && status == "503":
						// Readiness answers its own body when a check fails.
					case m.Schema == nil || m.Schema.Ref != "#/components/schemas/Error":
						t.Errorf("%s: the %s answer is not the common Error body", where, status)
					}
				}
			}
			if !success {
				t.Errorf("%s: no success answer documented", where)
			}
		}
	}
}

// vague lists the places in s (and the schemas it holds) that do not say what they carry.
func vague(s *openapi3.SchemaRef, at string) []string {
	seen := map[*openapi3.Schema]bool{}
	var out []string
	var walk func(s *openapi3.SchemaRef, at string)
	walk = func(s *openapi3.SchemaRef, at string) {
		if s == nil || s.Value == nil {
			out = append(out, at+": no schema")
			return
		}
		v := s.Value
		if seen[v] {
			return
		}
		seen[v] = true
		composed := len(v.OneOf)+len(v.AnyOf)+len(v.AllOf) > 0
		if v.Type == nil || v.Type.IsEmpty() {
			if !composed && v.Const == nil {
				out = append(out, at+": no type")
			}
		}
		if v.Type != nil && v.Type.Includes(openapi3.TypeObject) && len(v.Properties) == 0 && !composed &&
			v.AdditionalProperties.Schema == nil && (v.AdditionalProperties.Has == nil || !*v.AdditionalProperties.Has) {
			out = append(out, at+": an object without properties (or a documented map of values)")
		}
		if v.Type != nil && v.Type.Includes(openapi3.TypeArray) && v.Items == nil {
			out = append(out, at+": an array without items")
		}
		for name, p := range v.Properties {
			walk(p, at+"."+name)
		}
		if v.Items != nil {
			walk(v.Items, at+"[]")
		}
		if v.AdditionalProperties.Schema != nil {
			walk(v.AdditionalProperties.Schema, at+"{}")
		}
		for _, c := range append(append(append(openapi3.SchemaRefs{}, v.OneOf...), v.AnyOf...), v.AllOf...) {
			walk(c, at+"|")
		}
	}
	walk(s, at)
	return out
}

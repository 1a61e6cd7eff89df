package app_test

import (
	"bufio"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

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

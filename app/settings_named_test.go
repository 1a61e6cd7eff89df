package app_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/config"
)

// TestNamedSettingsExist: every configuration variable a page, a message or the README tells a
// person to set is one Parley reads. A banner that says "set PARLEY_SOMETHING" must name a real
// setting.
func TestNamedSettingsExist(t *testing.T) {
	known := map[string]bool{}
	for _, s := range config.Settings() {
		known[s[0]] = true
	}
	// Read outside the configuration, each on purpose: the test harness's and the strict tenant
	// scope switch (migrations), and the CI switch for required services.
	for _, name := range []string{"PARLEY_STRICT_TENANT_SCOPE", "PARLEY_TEST_REQUIRE_SERVICES", "PARLEY_TEST_POSTGRES_URL"} {
		known[name] = true
	}
	name := regexp.MustCompile(`\b(?:PARLEY|VAULT)_[A-Z][A-Z0-9_]*[A-Z0-9]\b`)
	var files []string
	for _, root := range []string{"../web/templates", "../app", "../cmd"} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go")) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	files = append(files, "../README.md")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range name.FindAllString(string(b), -1) {
			if !known[n] && !strings.HasPrefix(n, "PARLEY_TEST_") && !strings.HasPrefix(n, "PARLEY_VAULT_PORT") && !strings.HasPrefix(n, "PARLEY_VAULT_RUN_DIR") {
				t.Errorf("%s names %s, which is not a setting", f, n)
			}
		}
	}
}

package app_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/config"
	"github.com/parleyhq/parley/policy/rbac"
)

// TestREADMEConfigurationTable keeps the README's configuration table true: every setting the
// binary reads is listed there with its default.
func TestREADMEConfigurationTable(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, s := range config.Settings() {
		row := "| `" + s[0] + "` |"
		i := strings.Index(readme, row)
		if i < 0 {
			t.Errorf("README configuration table lacks %s", s[0])
			continue
		}
		line := readme[i:]
		line = line[:strings.IndexByte(line, '\n')]
		if s[1] != "" && !strings.Contains(line, "`"+s[1]+"`") {
			t.Errorf("README row for %s does not show default %q: %s", s[0], s[1], line)
		}
	}
}

// TestREADMEPermissionCount keeps the README's size of the permission catalogue the catalogue's.
func TestREADMEPermissionCount(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// The README wraps its lines; compare with white space folded.
	readme := strings.Join(strings.Fields(string(b)), " ")
	want := fmt.Sprintf("catalogue of %d permissions", len(rbac.Names()))
	if !strings.Contains(readme, want) {
		t.Errorf("README does not say %q", want)
	}
}

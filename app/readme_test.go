package app_test

import (
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/config"
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

package web

import (
	"flag"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/widget-v1.sri with the current loader hashes")

func widgetFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(WidgetAssets(), name)
	if err != nil {
		t.Fatalf("widget file %s: %v", name, err)
	}
	return b
}

// The chat module serves /widget/v1/:file for names matching its asset pattern, and frame.html at
// /widget/v1/frame: every file must be reachable that way, flat, with no subdirectory.
func TestWidgetAssetsAreFlatAndServable(t *testing.T) {
	servable := regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}\.(js|css|svg|png|woff2)$`)
	var names []string
	err := fs.WalkDir(WidgetAssets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		if d.IsDir() {
			t.Errorf("got directory %s, want a flat set of files", p)
			return nil
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	want := []string{"chatview.js", "client.js", "cobrowse.js", "dom.js", "forms.js", "frame.css", "frame.html", "frame.js", "texts.js", "widget.css", "widget.js"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("files: got %v, want %v", names, want)
	}
	for _, n := range names {
		if n != "frame.html" && !servable.MatchString(n) {
			t.Errorf("%s: got a name the asset route refuses, want one it serves", n)
		}
	}
}

// Every module the frame imports, and every file frame.html and the loader name, exists.
func TestWidgetReferencesResolve(t *testing.T) {
	importRe := regexp.MustCompile(`(?m)^\s*import\s[^'"]*['"]\./([^'"]+)['"]`)
	pathRe := regexp.MustCompile(`/widget/v1/([a-z0-9._-]+)`)
	assets := WidgetAssets()
	exists := func(name string) bool { _, err := fs.Stat(assets, name); return err == nil }
	for _, name := range []string{"frame.js", "chatview.js", "forms.js", "client.js", "dom.js", "texts.js"} {
		for _, m := range importRe.FindAllStringSubmatch(string(widgetFile(t, name)), -1) {
			if !exists(m[1]) {
				t.Errorf("%s imports ./%s: got no such file", name, m[1])
			}
		}
	}
	frame := string(widgetFile(t, "frame.html"))
	refs := pathRe.FindAllStringSubmatch(frame+string(widgetFile(t, "widget.js")), -1)
	if len(refs) < 4 {
		t.Fatalf("references: got %d, want the frame's module and stylesheet and the loader's iframe and stylesheet", len(refs))
	}
	for _, m := range refs {
		if m[1] != "frame" && !exists(m[1]) {
			t.Errorf("reference /widget/v1/%s: got no such file", m[1])
		}
	}
}

func TestWidgetIntegrity(t *testing.T) {
	got, err := WidgetIntegrity("widget.js")
	if err != nil {
		t.Fatal(err)
	}
	if want := Integrity(widgetFile(t, "widget.js")); got != want || !strings.HasPrefix(got, "sha384-") || len(got) != 71 {
		t.Errorf("WidgetIntegrity(widget.js): got %q, want %q (sha384-, 64 base64 characters)", got, want)
	}
	// A known vector: SHA-384 of the empty string.
	if got, want := Integrity(nil), "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"; got != want {
		t.Errorf("Integrity(empty): got %s, want %s", got, want)
	}
	if _, err := WidgetIntegrity("missing.js"); err == nil {
		t.Error("WidgetIntegrity(missing.js): got no error, want one")
	}
}

// The loader injects its stylesheet with Subresource Integrity, so whoever pins the loader pins the
// styles too. After changing widget.css, put the new value in widget.js (see widget/README.md).
func TestLoaderPinsItsStylesheet(t *testing.T) {
	m := regexp.MustCompile(`var CSS_INTEGRITY = '([^']+)'`).FindSubmatch(widgetFile(t, "widget.js"))
	if m == nil {
		t.Fatal("widget.js: got no CSS_INTEGRITY, want the stylesheet's SRI value")
	}
	if got, want := string(m[1]), Integrity(widgetFile(t, "widget.css")); got != want {
		t.Errorf("CSS_INTEGRITY in widget.js: got %s, want %s", got, want)
	}
}

// Customers pin /widget/v1/widget.js with SRI: once published, the v1 loader and its stylesheet
// must not change (a change is a new version directory). go test ./web -update rewrites the record
// when a change is intended before the first release.
func TestLoaderV1IsFrozen(t *testing.T) {
	got := "widget.js " + Integrity(widgetFile(t, "widget.js")) + "\nwidget.css " + Integrity(widgetFile(t, "widget.css")) + "\n"
	const golden = "testdata/widget-v1.sri"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read %s: %v", golden, err)
	}
	if got != string(want) {
		t.Errorf("v1 loader hashes changed:\ngot  %s\nwant %s\nPublished SRI pins would break; ship the change as a new version.", got, want)
	}
}

// Every widget and workspace script renders text as text: no HTML sinks, no string evaluation, no
// wildcard postMessage target, no style attributes.
func TestScriptsUseNoMarkupSinks(t *testing.T) {
	banned := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*['"](style|on)|postMessage\([^)]*['"]\*['"]|\.cssText`)
	files := map[string][]byte{}
	for _, n := range []string{"widget.js", "frame.js", "chatview.js", "forms.js", "client.js", "dom.js", "texts.js"} {
		files["widget/v1/"+n] = widgetFile(t, n)
	}
	consoleChat, err := fs.Glob(staticFS, "static/console-chat*.js")
	if err != nil || len(consoleChat) < 2 {
		t.Fatalf("workspace scripts: %v %v", consoleChat, err)
	}
	for _, name := range consoleChat {
		b, err := staticFS.ReadFile(name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		files[name] = b
	}
	if m := banned.FindString("el.innerHTML = text; w.postMessage(msg, '*')"); m == "" {
		t.Fatal("the sink pattern matches nothing, want it to catch innerHTML")
	}
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			for i, line := range strings.Split(string(b), "\n") {
				if m := banned.FindString(line); m != "" {
					t.Errorf("line %d: got %q, want no markup sink", i+1, m)
				}
			}
		})
	}
}

// The widget's pages carry no inline script, style or event handler: the strict CSP holds.
func TestWidgetPagesHaveNoInlineCode(t *testing.T) {
	script := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	other := regexp.MustCompile(`(?i)<style|\sstyle\s*=|\son[a-z]+\s*=|javascript:`)
	pages := map[string][]byte{"widget/v1/frame.html": widgetFile(t, "frame.html")}
	for _, name := range []string{"demo.html", "workspace.html"} {
		b, err := templateFS.ReadFile("templates/" + name)
		if err != nil {
			t.Fatal(err)
		}
		pages["templates/"+name] = b
	}
	for name, b := range pages {
		t.Run(name, func(t *testing.T) {
			s := string(b)
			scripts := script.FindAllStringSubmatch(s, -1)
			if len(scripts) == 0 {
				t.Fatal("got no script element, want the page's module or loader")
			}
			for _, m := range scripts {
				if !strings.Contains(m[1], " src=") || strings.TrimSpace(m[2]) != "" {
					t.Errorf("got <script%s>%s, want an empty element loaded by src", m[1], m[2])
				}
			}
			if m := other.FindString(s); m != "" {
				t.Errorf("got %q, want no inline style or handler", m)
			}
		})
	}
}

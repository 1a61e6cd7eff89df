package web

import (
	"bytes"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// The visitor widget, version 1: the loader a customer's page includes (widget.js + widget.css)
// and the chat frame's modules and stylesheet. README.md next to them is not embedded.
//
//go:embed widget/v1/*.js widget/v1/*.css
var widgetFS embed.FS

// crossOrigin reports whether customer pages load widget file name from another origin (with
// Subresource Integrity, which needs CORS). The frame's own files are loaded by Parley's origin only.
func crossOrigin(name string) bool { return name == "widget.js" || name == "widget.css" }

// WidgetFrame is the data of the chat iframe page, templates/widget_frame.html.
type WidgetFrame struct {
	// SiteKey is the public key of the (existing, enabled) site the frame chats for.
	SiteKey string
	// Lang is the page language (BCP 47), e.g. the site's default or the loader's data-lang.
	Lang string
	// Title is the document title until the site's texts are loaded.
	Title string
}

// DemoPage is the data of the demo visitor page, templates/demo.html.
type DemoPage struct {
	// SiteKey is the demo site's public key.
	SiteKey string
	// SiteName is the demo site's display name.
	SiteName string
	// ParleyOrigin is Parley's public origin (scheme://host[:port]), shown in the embed code.
	ParleyOrigin string
	// Integrity is the loader's SRI value, Widget.Integrity("widget.js").
	Integrity string
}

// widgetFile is one embedded widget file with what its responses need.
type widgetFile struct {
	body        []byte
	contentType string
	integrity   string
	etag        string
}

// Widget serves the visitor widget's static files. Build it once with NewWidget; it is read-only
// afterwards and safe for concurrent use.
type Widget struct {
	files map[string]widgetFile
}

// NewWidget loads the embedded widget files and computes their integrity values.
func NewWidget() (*Widget, error) {
	w := &Widget{files: map[string]widgetFile{}}
	err := fs.WalkDir(widgetFS, "widget/v1", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := widgetFS.ReadFile(p)
		if err != nil {
			return err
		}
		ct := "text/javascript; charset=utf-8"
		if strings.HasSuffix(p, ".css") {
			ct = "text/css; charset=utf-8"
		}
		sri := Integrity(body)
		w.files[path.Base(p)] = widgetFile{body: body, contentType: ct, integrity: sri, etag: `"` + sri[7:27] + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("widget files: %w", err)
	}
	if _, ok := w.files["widget.js"]; !ok {
		return nil, fmt.Errorf("widget files: widget.js: %w", fs.ErrNotExist)
	}
	return w, nil
}

// Integrity returns the Subresource Integrity value ("sha384-…") of body.
func Integrity(body []byte) string {
	sum := sha512.Sum384(body)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

// Integrity returns the SRI value of widget file name ("widget.js", "widget.css", …).
func (w *Widget) Integrity(name string) (string, bool) {
	f, ok := w.files[name]
	return f.integrity, ok
}

// Files lists the widget's file names.
func (w *Widget) Files() []string {
	names := make([]string, 0, len(w.files))
	for n := range w.files {
		names = append(names, n)
	}
	return names
}

// ServeLoader is the handler of GET /widget.js: the current loader under a stable, unversioned
// address. Customers who pin it with SRI use /widget/v1/widget.js instead.
func (w *Widget) ServeLoader(c echo.Context) error {
	return w.serve(c, "widget.js", "public, max-age=300")
}

// ServeAsset is the handler of GET /widget/v1/*: the file named by the wildcard, or 404.
func (w *Widget) ServeAsset(c echo.Context) error {
	return w.serve(c, c.Param("*"), "public, max-age=3600")
}

func (w *Widget) serve(c echo.Context, name, cache string) error {
	f, ok := w.files[name]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, f.contentType)
	h.Set("Cache-Control", cache)
	h.Set("ETag", f.etag)
	if crossOrigin(name) {
		// Loaded by customer pages: readable cross-origin (SRI needs CORS) and not blocked by
		// the same-origin resource policy every other response carries. No credentials.
		h.Set(echo.HeaderAccessControlAllowOrigin, "*")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		h.Add(echo.HeaderVary, echo.HeaderOrigin)
	}
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(f.body))
	return nil
}

// origin is what FrameCSP accepts as an allowed origin: scheme://host[:port], nothing else.
var origin = regexp.MustCompile(`(?i)^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// FrameCSP returns the Content-Security-Policy of the chat frame page: Parley's strict policy
// with frame-ancestors limited to Parley itself and the site's allowed origins. Anything in
// origins that is not a plain scheme://host[:port] is left out, so a stored value can never
// add a directive.
func FrameCSP(origins []string) string {
	ancestors := []string{"'self'"}
	for _, o := range origins {
		if origin.MatchString(o) {
			ancestors = append(ancestors, strings.ToLower(o))
		}
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " +
		"frame-ancestors " + strings.Join(ancestors, " ")
}

// SetFrameHeaders prepares h for the chat frame page: FrameCSP(origins) and no X-Frame-Options
// (which would forbid the customer's page to frame it).
func SetFrameHeaders(h http.Header, origins []string) {
	h.Set("Content-Security-Policy", FrameCSP(origins))
	h.Del("X-Frame-Options")
}

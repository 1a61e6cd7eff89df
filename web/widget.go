package web

import (
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
)

// The visitor widget, version 1 (widget/README.md): the loader a customer's page includes
// (widget.js, widget.css), the chat frame page (frame.html) and the frame's modules and stylesheet.
//
//go:embed widget/v1/*.js widget/v1/*.css widget/v1/frame.html
var widgetFS embed.FS

// WidgetAssets returns the widget's files in one flat directory, as the chat module serves them:
// widget.js at GET /widget.js and /widget/v1/widget.js, frame.html at GET /widget/v1/frame, and
// every other file at GET /widget/v1/<name>.
func WidgetAssets() fs.FS {
	// fs.Sub fails only for an invalid path, and "widget/v1" is a valid constant one.
	sub, _ := fs.Sub(widgetFS, "widget/v1")
	return sub
}

// Integrity returns the Subresource Integrity value ("sha384-…") of body.
func Integrity(body []byte) string {
	sum := sha512.Sum384(body)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

// WidgetIntegrity returns the SRI value of widget file name, e.g. "widget.js" for the embed code
// customers pin.
func WidgetIntegrity(name string) (string, error) {
	b, err := fs.ReadFile(WidgetAssets(), name)
	if err != nil {
		return "", fmt.Errorf("widget file %q: %w", name, err)
	}
	return Integrity(b), nil
}

// DemoPage is the data of the demo visitor page, templates/demo.html: a made-up customer website
// that embeds the widget exactly as a customer would.
type DemoPage struct {
	// SiteKey is the demo site's public key.
	SiteKey string
	// SiteName is the demo site's display name.
	SiteName string
	// ParleyOrigin is Parley's public origin (scheme://host[:port]), shown in the embed code.
	ParleyOrigin string
	// Integrity is the loader's SRI value, WidgetIntegrity("widget.js").
	Integrity string
}

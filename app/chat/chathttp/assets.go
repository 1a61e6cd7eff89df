package chathttp

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
)

// loader serves the widget loader, cacheable for a short while (customers pin versions through
// /widget/v1/widget.js with Subresource Integrity).
func (m *Module) loader(c echo.Context) error {
	return m.serveAsset(c, "widget.js", "public, max-age=300")
}

var assetName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}\.(js|css|svg|png|woff2)$`)

func (m *Module) asset(c echo.Context) error {
	name := c.Param("file")
	if !assetName.MatchString(name) {
		return api.ErrNotFound
	}
	return m.serveAsset(c, name, "public, max-age=86400")
}

func (m *Module) serveAsset(c echo.Context, name, cache string) error {
	if m.assets == nil {
		return api.ErrNotFound
	}
	b, err := fs.ReadFile(m.assets, name)
	if errors.Is(err, fs.ErrNotExist) {
		return api.ErrNotFound
	}
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", cache)
	// The loader runs on customers' pages, so it must be loadable cross-origin.
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set(echo.HeaderAccessControlAllowOrigin, "*")
	return c.Blob(http.StatusOK, contentType(name), b)
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".woff2":
		return "font/woff2"
	}
	return "application/octet-stream"
}

// frame serves the chat iframe page for ?site=KEY: only the site's allowed origins may frame it.
func (m *Module) frame(c echo.Context) error {
	site, err := m.site(c)
	if err != nil {
		return err
	}
	if m.assets == nil {
		return api.ErrNotFound
	}
	b, err := fs.ReadFile(m.assets, "frame.html")
	if errors.Is(err, fs.ErrNotExist) {
		return api.ErrNotFound
	}
	if err != nil {
		return err
	}
	ancestors := "'self'"
	for _, o := range site.Origins() {
		ancestors += " " + o
	}
	ws := strings.Replace(strings.Replace(m.chat.PublicOrigin(), "https://", "wss://", 1), "http://", "ws://", 1)
	h := c.Response().Header()
	h.Del("X-Frame-Options")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "+
		"connect-src 'self' "+ws+"; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors "+ancestors)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	return c.HTMLBlob(http.StatusOK, b)
}

// Package web holds Parley's server-rendered pages and static assets, embedded in the binary:
// html/template layouts for the console and setup flow, the stylesheet, the console's chat
// workspace module, and the visitor widget (the loader customers embed and the chat frame, see
// Widget). No inline script or style is used anywhere, so the strict Content-Security-Policy holds
// on every page.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

//go:embed templates/*.html templates/partials/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Pages is the parsed set of page templates. Each page is a template named after its file
// ("setup.html") that renders the shared layout. The parsed templates are never executed
// themselves: each response executes a clone that knows the request's console shell, so one
// request's shell can never show in another's page.
type Pages struct {
	pages map[string]*template.Template
	// Shell returns the console shell of a request — who is signed in, the navigation their
	// permissions allow, the banners — or nil for a page without one (signed out, setup). Set
	// once while the application is assembled, before the server starts.
	Shell func(c echo.Context) *Shell
}

// LoadPages parses every page with the shared layout.
func LoadPages() (*Pages, error) {
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		return nil, err
	}
	p := &Pages{pages: map[string]*template.Template{}}
	for _, e := range entries {
		name := e.Name()
		if name == "layout.html" || !strings.HasSuffix(name, ".html") {
			continue
		}
		t, err := template.New(name).Funcs(template.FuncMap{"shell": noShell}).
			ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html", "templates/"+name)
		if err != nil {
			return nil, err
		}
		p.pages[name] = t
	}
	return p, nil
}

func noShell() *Shell { return nil }

// Render writes page name with data and status as an HTML response, inside the console shell of
// the request when it has one.
func (p *Pages) Render(c echo.Context, status int, name string, data any) error {
	master, ok := p.pages[name]
	if !ok {
		return echo.NewHTTPError(http.StatusInternalServerError).SetInternal(fs.ErrNotExist)
	}
	var shell *Shell
	if p.Shell != nil {
		shell = p.Shell(c)
	}
	t, err := master.Clone()
	if err != nil {
		return err
	}
	t.Funcs(template.FuncMap{"shell": func() *Shell { return shell }})
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(status)
	_, err = c.Response().Write(buf.Bytes())
	return err
}

// Template returns page name's template, for renderers that write outside a handler (the error
// page). It is a clone without a shell, so executing it leaves the page itself unexecuted.
func (p *Pages) Template(name string) *template.Template {
	t := p.pages[name]
	if t == nil {
		return nil
	}
	c, err := t.Clone()
	if err != nil {
		return nil
	}
	return c.Lookup("layout")
}

// StaticFiles is the embedded assets served under /static/: files only, a directory (the root
// included) is not found, so no listing is ever produced.
func StaticFiles() fs.FS {
	// fs.Sub fails only for an invalid path, and "static" is a valid constant one.
	sub, _ := fs.Sub(staticFS, "static")
	return FilesOnly(sub)
}

// Static serves StaticFiles under /static/: a directory answers 404, never a listing.
func Static() http.Handler {
	return http.StripPrefix("/static/", http.FileServer(http.FS(StaticFiles())))
}

// FilesOnly returns fsys without its directories: opening one fails with fs.ErrNotExist, so a
// file server over it cannot list a folder.
func FilesOnly(fsys fs.FS) fs.FS { return filesOnly{fsys} }

type filesOnly struct{ fsys fs.FS }

var _ fs.FS = filesOnly{}

// Open opens name when it is a file.
func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := file.Stat()
	if err != nil || st.IsDir() {
		_ = file.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return file, nil
}

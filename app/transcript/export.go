package transcript

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/parleyhq/parley/app/identity"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/compliance/pan"
)

// Export formats.
const (
	FormatJSON = "json"
	FormatHTML = "html"
	FormatPDF  = "pdf"
)

// Formats lists the export formats.
var Formats = []string{FormatJSON, FormatHTML, FormatPDF}

// Copy is one exported copy of a transcript: the transcript and who exported it, when.
type Copy struct {
	Transcript
	ExportedBy   string    `json:"exported_by"`
	ExportedByID string    `json:"exported_by_id"`
	ExportedAt   time.Time `json:"exported_at"`
	Notice       string    `json:"notice"`
}

// ExportFile is an exported file ready to send.
type ExportFile struct {
	Name, ContentType string
	Data              []byte
}

// copyNotice is printed on every copy.
const copyNotice = "Confidential: this copy holds personal data and may hold health information. Card numbers are masked. " +
	"Keep it only as long as needed and share it only with people entitled to read it."

// Export renders the conversation in format for p, names its exporter and time in the copy, and
// records the export (with the reason when given). The copy is returned only once the audit log
// holds the record.
func (s *Service) Export(ctx context.Context, p *identity.Principal, convID, format, reason string, o Origin) (ExportFile, error) {
	if !contains(Formats, format) {
		return ExportFile{}, invalid("format", "The format is json, html or pdf.")
	}
	t, reason, err := s.read(ctx, p, convID, reason)
	if err != nil {
		return ExportFile{}, err
	}
	by := p.Email
	if people, err := s.people(ctx, p.TenantID, []string{p.UserID}); err == nil {
		if person, ok := people[p.UserID]; ok {
			by = person.Email
			if person.DisplayName != "" {
				by = person.DisplayName + " <" + person.Email + ">"
			}
		}
	}
	cp := Copy{Transcript: t, ExportedBy: by, ExportedByID: p.UserID, ExportedAt: s.Now().UTC(), Notice: copyNotice}
	f := ExportFile{Name: "transcript-" + convID + "." + format}
	switch format {
	case FormatJSON:
		f.ContentType = "application/json"
		f.Data, err = RenderJSON(cp)
	case FormatHTML:
		f.ContentType = "text/html; charset=utf-8"
		f.Data, err = RenderHTML(cp)
	case FormatPDF:
		f.ContentType = "application/pdf"
		f.Data, err = RenderPDF(cp)
	}
	if err != nil {
		return ExportFile{}, err
	}
	details := map[string]string{"format": format, "bytes": strconv.Itoa(len(f.Data)), "visitor_pii": strconv.FormatBool(t.Visitor.Unmasked)}
	if reason != "" {
		details["reason"] = reason
	}
	if t.DepartmentID != "" {
		details["department"] = t.DepartmentID
	}
	if err := s.record(ctx, s.event(p, audit.ActionTranscriptExport, "conversation", convID, o, details)); err != nil {
		return ExportFile{}, err
	}
	return f, nil
}

// masked returns the copy with every free-text field masked once more for card numbers (the
// decrypted fields already are; names and tags are refused at rest when they hold one). Ids are
// left as they are: a random id read across its hyphens can look like a card number.
func masked(cp Copy) Copy {
	m := pan.MaskLast4
	cp.ExportedBy, cp.SiteName, cp.DepartmentName, cp.AgentName = m(cp.ExportedBy), m(cp.SiteName), m(cp.DepartmentName), m(cp.AgentName)
	cp.Tags = maskAll(cp.Tags)
	v := &cp.Visitor
	v.Name, v.Email, v.Browser, v.OS, v.Language = m(v.Name), m(v.Email), m(v.Browser), m(v.OS), m(v.Language)
	cp.Prechat = append([]Answer(nil), cp.Prechat...)
	for i := range cp.Prechat {
		cp.Prechat[i].Question, cp.Prechat[i].Answer = m(cp.Prechat[i].Question), m(cp.Prechat[i].Answer)
	}
	if cp.Survey != nil {
		sv := *cp.Survey
		sv.Comment = m(sv.Comment)
		cp.Survey = &sv
	}
	cp.Events = append([]Event(nil), cp.Events...)
	for i := range cp.Events {
		e := &cp.Events[i]
		e.Sender, e.Text = m(e.Sender), m(e.Text)
		if e.File != nil {
			f := *e.File
			f.Name = m(f.Name)
			e.File = &f
		}
	}
	cp.Notes = append([]Note(nil), cp.Notes...)
	for i := range cp.Notes {
		cp.Notes[i].AuthorName, cp.Notes[i].Body = m(cp.Notes[i].AuthorName), m(cp.Notes[i].Body)
	}
	return cp
}

func maskAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = pan.MaskLast4(s)
	}
	return out
}

// RenderJSON writes the copy as indented JSON, its free text masked once more for card numbers.
func RenderJSON(cp Copy) ([]byte, error) {
	return json.MarshalIndent(masked(cp), "", "  ")
}

// htmlCopy is a self-contained page: no script, no style sheet, no image, no external link.
var htmlCopy = template.Must(template.New("copy").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04:05 UTC") },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'">
<title>Transcript {{.ID}}</title>
</head>
<body>
<header>
<h1>Chat transcript</h1>
<p><strong>{{.Notice}}</strong></p>
<p>Exported by {{.ExportedBy}} (user {{.ExportedByID}}) on {{when .ExportedAt}}.</p>
</header>
<main>
<h2>Conversation</h2>
<dl>
<dt>Conversation</dt><dd>{{.ID}}</dd>
<dt>Site</dt><dd>{{.SiteName}}</dd>
<dt>Department</dt><dd>{{if .DepartmentName}}{{.DepartmentName}}{{else}}none{{end}}</dd>
<dt>Agent</dt><dd>{{if .AgentName}}{{.AgentName}}{{else}}none{{end}}</dd>
<dt>Status</dt><dd>{{.Status}}</dd>
<dt>Started</dt><dd>{{when .StartedAt}}</dd>
{{with .EndedAt}}<dt>Ended</dt><dd>{{when .}}</dd>{{end}}
<dt>Tags</dt><dd>{{range $i, $t := .Tags}}{{if $i}}, {{end}}{{$t}}{{else}}none{{end}}</dd>
</dl>
<h2>Visitor</h2>
<dl>
<dt>Visitor id</dt><dd>{{.Visitor.ID}}</dd>
<dt>Name</dt><dd>{{.Visitor.Name}}</dd>
<dt>E-mail</dt><dd>{{.Visitor.Email}}</dd>
<dt>IP address</dt><dd>{{.Visitor.IP}}</dd>
<dt>Browser</dt><dd>{{.Visitor.Browser}} {{.Visitor.OS}}</dd>
<dt>Personal data</dt><dd>{{if .Visitor.Unmasked}}shown{{else}}masked{{end}}</dd>
</dl>
{{if .Prechat}}<h2>Pre-chat answers</h2>
<dl>{{range .Prechat}}<dt>{{.Question}}</dt><dd>{{.Answer}}</dd>{{end}}</dl>{{end}}
{{with .Survey}}<h2>Survey</h2>
<p>Rating {{.Rating}} of 5.{{if .Comment}} Comment: {{.Comment}}{{end}}</p>{{end}}
<h2>Messages and events</h2>
<ol>
{{range .Events}}<li><p><time datetime="{{.At.UTC.Format "2006-01-02T15:04:05Z07:00"}}">{{when .At}}</time> — <strong>{{.Sender}}</strong>{{if .AgentOnly}} (whisper: agents only, the visitor did not see it){{end}}</p>
<p>{{if .Unreadable}}[This message cannot be read.]{{else if .File}}File: {{.File.Name}} ({{.File.Type}}, {{.File.Size}} bytes){{else}}{{.Text}}{{end}}</p></li>
{{end}}</ol>
<h2>Notes</h2>
{{if .Notes}}<ol>{{range .Notes}}<li><p>{{.AuthorName}}, {{when .At}}</p><p>{{.Body}}</p></li>{{end}}</ol>{{else}}<p>No notes.</p>{{end}}
</main>
<footer><p>Exported by {{.ExportedBy}} on {{when .ExportedAt}}. {{.Notice}}</p></footer>
</body>
</html>
`))

// RenderHTML writes the copy as one self-contained HTML page.
func RenderHTML(cp Copy) ([]byte, error) {
	var b bytes.Buffer
	if err := htmlCopy.Execute(&b, masked(cp)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// RenderPDF writes the copy as a PDF (A4, the core Helvetica font: text outside Windows-1252 is
// shown as '?'). Every page's footer names the exporter and the time.
func RenderPDF(cp Copy) ([]byte, error) {
	cp = masked(cp)
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(cp.ExportedAt)
	pdf.SetModificationDate(cp.ExportedAt)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	txt := func(s string) string { return tr(s) }
	when := func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04:05 UTC") }
	pdf.SetTitle(txt("Chat transcript "+cp.ID), false)
	pdf.SetAuthor(txt(cp.ExportedBy), false)
	pdf.SetCreator("Parley", false)
	footer := txt(fmt.Sprintf("Exported by %s on %s. Confidential; card numbers masked.", cp.ExportedBy, when(cp.ExportedAt)))
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "I", 7)
		pdf.CellFormat(0, 5, footer+"  Page "+strconv.Itoa(pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.SetAutoPageBreak(true, 16)
	pdf.AddPage()
	heading := func(s string) {
		pdf.Ln(3)
		pdf.SetFont("Helvetica", "B", 12)
		pdf.CellFormat(0, 7, txt(s), "", 1, "", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
	}
	field := func(k, v string) {
		pdf.SetFont("Helvetica", "B", 9)
		pdf.CellFormat(35, 5, txt(k), "", 0, "", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(0, 5, txt(v), "", "", false)
	}
	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(0, 9, "Chat transcript", "", 1, "", false, 0, "")
	pdf.SetFont("Helvetica", "", 8)
	pdf.MultiCell(0, 4, txt(cp.Notice), "", "", false)
	pdf.MultiCell(0, 4, txt(fmt.Sprintf("Exported by %s (user %s) on %s.", cp.ExportedBy, cp.ExportedByID, when(cp.ExportedAt))), "", "", false)
	heading("Conversation")
	field("Conversation", cp.ID)
	field("Site", cp.SiteName)
	field("Department", orNone(cp.DepartmentName))
	field("Agent", orNone(cp.AgentName))
	field("Status", cp.Status)
	field("Started", when(cp.StartedAt))
	if cp.EndedAt != nil {
		field("Ended", when(*cp.EndedAt))
	}
	field("Tags", orNone(strings.Join(cp.Tags, ", ")))
	heading("Visitor")
	field("Visitor id", cp.Visitor.ID)
	field("Name", orNone(cp.Visitor.Name))
	field("E-mail", orNone(cp.Visitor.Email))
	field("IP address", orNone(cp.Visitor.IP))
	field("Browser", orNone(strings.TrimSpace(cp.Visitor.Browser+" "+cp.Visitor.OS)))
	if len(cp.Prechat) > 0 {
		heading("Pre-chat answers")
		for _, a := range cp.Prechat {
			field(a.Question, a.Answer)
		}
	}
	if cp.Survey != nil {
		heading("Survey")
		field("Rating", strconv.Itoa(cp.Survey.Rating)+" of 5")
		if cp.Survey.Comment != "" {
			field("Comment", cp.Survey.Comment)
		}
	}
	heading("Messages and events")
	for _, e := range cp.Events {
		who := e.Sender
		if e.AgentOnly {
			who += " (whisper, agents only)"
		}
		pdf.SetFont("Helvetica", "B", 8)
		pdf.CellFormat(0, 4, txt(when(e.At)+"  "+who), "", 1, "", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
		text := e.Text
		switch {
		case e.Unreadable:
			text = "[This message cannot be read.]"
		case e.File != nil:
			text = fmt.Sprintf("File: %s (%s, %d bytes)", e.File.Name, e.File.Type, e.File.Size)
		}
		pdf.MultiCell(0, 5, txt(text), "", "", false)
		pdf.Ln(1)
	}
	heading("Notes")
	if len(cp.Notes) == 0 {
		pdf.MultiCell(0, 5, "No notes.", "", "", false)
	}
	for _, n := range cp.Notes {
		pdf.SetFont("Helvetica", "B", 8)
		pdf.CellFormat(0, 4, txt(n.AuthorName+", "+when(n.At)), "", 1, "", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(0, 5, txt(n.Body), "", "", false)
	}
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

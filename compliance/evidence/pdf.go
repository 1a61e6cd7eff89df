package evidence

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// PDF renders the report as a PDF (A4, the core Helvetica font: text outside Windows-1252 is
// shown as '?', so dashes and signs are spelt plainly first): the summary with a bar chart, then
// every control with its checks and evidence.
func PDF(r Report) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCatalogSort(true) // the same report gives the same bytes
	pdf.SetCreationDate(r.GeneratedAt)
	pdf.SetModificationDate(r.GeneratedAt)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	plain := strings.NewReplacer("—", "-", "–", "-", "≤", "<=", "≥", ">=", "’", "'", "“", `"`, "”", `"`)
	txt := func(s string) string { return tr(plain.Replace(s)) }
	when := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
	pdf.SetTitle(txt(r.FrameworkName+" evidence report, "+r.Organisation), false)
	pdf.SetAuthor(txt(r.GeneratedBy), false)
	pdf.SetCreator("Parley", false)
	footer := txt(fmt.Sprintf("%s evidence, %s, generated %s. Part of a signed bundle: parley evidence verify.", r.FrameworkName, r.Organisation, when(r.GeneratedAt)))
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "I", 7)
		pdf.CellFormat(0, 5, footer+"  Page "+strconv.Itoa(pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.SetAutoPageBreak(true, 16)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(0, 9, txt(r.FrameworkName+" evidence report"), "", 1, "", false, 0, "")
	field := func(k, v string) {
		pdf.SetFont("Helvetica", "B", 9)
		pdf.CellFormat(45, 5, txt(k), "", 0, "", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(0, 5, txt(v), "", "", false)
	}
	field("Organisation", r.Organisation+" ("+r.Tenant+")")
	field("Period", when(r.From)+" to "+when(r.To))
	field("Generated", when(r.GeneratedAt)+" by "+r.GeneratedBy)
	field("Audit events in the period", strconv.FormatInt(r.Events, 10))
	if r.NoEvents != "" {
		pdf.Ln(2)
		pdf.SetFont("Helvetica", "B", 9)
		pdf.MultiCell(0, 5, txt(r.NoEvents), "1", "", false)
	}
	pdf.Ln(3)
	pdf.SetFont("Helvetica", "B", 12)
	pdf.CellFormat(0, 7, "Summary", "", 1, "", false, 0, "")
	total := r.Summary.Pass + r.Summary.Fail + r.Summary.Manual
	bars := []struct {
		label   string
		n       int
		r, g, b int
	}{{"Pass", r.Summary.Pass, 11, 107, 46}, {"Fail", r.Summary.Fail, 164, 22, 26}, {"Manual", r.Summary.Manual, 122, 82, 0}}
	for _, b := range bars {
		pdf.SetFont("Helvetica", "", 9)
		pdf.CellFormat(20, 6, b.label, "", 0, "", false, 0, "")
		w := 0.0
		if total > 0 {
			w = 100 * float64(b.n) / float64(total)
		}
		x, y := pdf.GetXY()
		pdf.SetFillColor(b.r, b.g, b.b)
		if w > 0 {
			pdf.Rect(x, y+1, w, 4, "F")
		}
		pdf.SetX(x + w + 2)
		pdf.CellFormat(0, 6, fmt.Sprintf("%d of %d controls", b.n, total), "", 1, "", false, 0, "")
	}
	pdf.SetFont("Helvetica", "", 9)
	pdf.MultiCell(0, 5, fmt.Sprintf("Automated checks: %d pass, %d fail, %d manual.", r.Summary.ChecksPass, r.Summary.ChecksFail, r.Summary.ChecksManual), "", "", false)
	pdf.Ln(3)
	pdf.SetFont("Helvetica", "B", 12)
	pdf.CellFormat(0, 7, "Controls", "", 1, "", false, 0, "")
	for _, c := range r.Controls {
		pdf.Ln(2)
		pdf.SetFont("Helvetica", "B", 10)
		pdf.MultiCell(0, 5, txt(fmt.Sprintf("%s  %s  [%s]", c.ID, c.Title, strings.ToUpper(string(c.Status)))), "", "", false)
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(0, 5, txt(c.Parley), "", "", false)
		for _, res := range c.Results {
			pdf.SetFont("Helvetica", "B", 8)
			pdf.MultiCell(0, 4, txt(fmt.Sprintf("%s: %s (%s)", strings.ToUpper(string(res.Status)), res.Title, res.Check)), "", "", false)
			pdf.SetFont("Helvetica", "", 8)
			pdf.MultiCell(0, 4, txt(res.Evidence), "", "", false)
			for _, d := range res.Details {
				pdf.MultiCell(0, 4, txt("  - "+d), "", "", false)
			}
		}
		for _, m := range c.Manual {
			pdf.SetFont("Helvetica", "I", 8)
			pdf.MultiCell(0, 4, txt("To attest: "+m), "", "", false)
		}
	}
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

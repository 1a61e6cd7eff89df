package evidence

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"time"
)

//go:embed report.html.tmpl
var reportHTML string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	// bar is the width in the summary chart (of 300) of n out of total.
	"bar": func(n, total int) int {
		if total == 0 {
			return 0
		}
		return n * 300 / total
	},
	"add": func(a, b, c int) int { return a + b + c },
	"pct": func(n, total int) string {
		if total == 0 {
			return "0%"
		}
		return fmt.Sprintf("%d%%", n*100/total)
	},
}).Parse(reportHTML))

// HTML renders the report as one self-contained, printable page: no script, no external
// resource; its style sheet and charts (SVG) are inside it.
func HTML(r Report) ([]byte, error) {
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

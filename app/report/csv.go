package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/compliance/pan"
)

// csvHeader is the export's first row. Durations are whole seconds.
var csvHeader = []string{"section", "name", "chats", "missed",
	"wait_mean_s", "wait_median_s", "wait_p90_s",
	"first_response_mean_s", "first_response_median_s", "first_response_p90_s",
	"handle_mean_s", "handle_median_s", "handle_p90_s",
	"rated", "csat_mean"}

// WriteCSV writes r as CSV: the total, one row per department, site and agent, the CSAT
// distribution (section csat, name the rating, chats the count) and the heatmap (section hour,
// name "Mon 09", chats the count). Every cell that a spreadsheet would read as a formula is
// neutralised, and card numbers in names are masked.
func WriteCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	period := r.Period.From.Format(DateLayout) + ".." + r.Period.To.Format(DateLayout) + " " + r.Period.Zone
	rows := [][]string{figuresRow("total", period, r.Total)}
	for _, sec := range []struct {
		name string
		gs   []Group
	}{{"department", r.ByDepartment}, {"site", r.BySite}, {"agent", r.ByAgent}} {
		for _, g := range sec.gs {
			rows = append(rows, figuresRow(sec.name, g.Name, g.Figures))
		}
	}
	for i, n := range r.CSAT {
		rows = append(rows, countRow("csat", strconv.Itoa(i+1), n))
	}
	for d, row := range r.Heatmap {
		for h, n := range row {
			rows = append(rows, countRow("hour", Weekdays[d]+" "+twoDigits(h), n))
		}
	}
	for _, row := range rows {
		for i := range row {
			row[i] = SafeCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func seconds(d time.Duration, n int) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(int64(d.Round(time.Second)/time.Second), 10)
}

func figuresRow(section, name string, f Figures) []string {
	mean := ""
	if f.Rated > 0 {
		mean = strconv.FormatFloat(f.MeanRating(), 'f', 2, 64)
	}
	return []string{section, name, strconv.Itoa(f.Chats), strconv.Itoa(f.Missed),
		seconds(f.Wait.Mean, f.Wait.N), seconds(f.Wait.Median, f.Wait.N), seconds(f.Wait.P90, f.Wait.N),
		seconds(f.FirstResponse.Mean, f.FirstResponse.N), seconds(f.FirstResponse.Median, f.FirstResponse.N), seconds(f.FirstResponse.P90, f.FirstResponse.N),
		seconds(f.Handle.Mean, f.Handle.N), seconds(f.Handle.Median, f.Handle.N), seconds(f.Handle.P90, f.Handle.N),
		strconv.Itoa(f.Rated), mean}
}

func countRow(section, name string, n int) []string {
	r := make([]string, len(csvHeader))
	r[0], r[1], r[2] = section, name, strconv.Itoa(n)
	return r
}

// SafeCell neutralises a CSV cell a spreadsheet would evaluate (one starting with =, +, -, @,
// a tab or a carriage return) by prefixing an apostrophe, and masks any card number in it.
func SafeCell(s string) string {
	s = pan.MaskLast4(s)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

package report

import (
	"fmt"
	"strconv"
	"time"
)

// The charts are drawn server-side as SVG: the geometry is computed here and the page template
// writes it as elements with attributes and CSS classes (web/static/reports.css), never with
// inline styles or scripts. Every chart has a table beside it with the same figures.

// Bar is one bar of a bar chart, in the chart's coordinates.
type Bar struct {
	X, Y, W, H int
	// Class is the bar's CSS class; Title its tooltip and accessible name.
	Class string
	Title string
}

// Tick is a labelled position on an axis.
type Tick struct {
	X, Y  int
	Label string
}

// BarChart is a vertical bar chart.
type BarChart struct {
	Width, Height int
	// Plot is the plotting area: left, top, right and bottom edges.
	Left, Top, Right, Bottom int
	Bars                     []Bar
	XTicks, YTicks           []Tick
}

// Chart dimensions (SVG user units; the CSS scales the chart to the page's width).
const (
	chartWidth  = 720
	chartHeight = 240
	plotLeft    = 44
	plotTop     = 12
	plotRight   = 708
	plotBottom  = 208
)

// axisTicks is how many intervals the value axis has.
const axisTicks = 4

// niceStep is the axis interval for a chart whose largest value is v: v/4 rounded up to 1, 2 or
// 5 times a power of ten, so every tick is a whole, round number.
func niceStep(v int) int {
	need := max((v+axisTicks-1)/axisTicks, 1)
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= need {
				return m * p
			}
		}
	}
}

func newBarChart(maxValue int) (BarChart, int) {
	c := BarChart{Width: chartWidth, Height: chartHeight, Left: plotLeft, Top: plotTop, Right: plotRight, Bottom: plotBottom}
	step := niceStep(maxValue)
	for i := 0; i <= axisTicks; i++ {
		c.YTicks = append(c.YTicks, Tick{X: plotLeft - 6, Y: plotBottom - (plotBottom-plotTop)*i/axisTicks, Label: strconv.Itoa(step * i)})
	}
	return c, step * axisTicks
}

func barHeight(v, top int) int { return (plotBottom - plotTop) * v / top }

// DaysChart draws chats per day, each bar with its missed chats at its foot.
func DaysChart(days []Day) BarChart {
	most := 0
	for _, d := range days {
		most = max(most, d.Chats)
	}
	c, top := newBarChart(most)
	n := max(len(days), 1)
	slot := (plotRight - plotLeft) / n
	gap := max(slot/5, 1)
	if slot < 3 {
		gap = 0
	}
	every := max(1, (n+9)/10) // at most about ten date labels
	for i, d := range days {
		x := plotLeft + i*slot
		w := max(slot-gap, 1)
		date := d.Date.Format("Mon 2 Jan")
		h := barHeight(d.Chats, top)
		c.Bars = append(c.Bars, Bar{X: x, Y: plotBottom - h, W: w, H: h, Class: "bar-chats",
			Title: fmt.Sprintf("%s: %d chats, %d missed", date, d.Chats, d.Missed)})
		if d.Missed > 0 {
			mh := barHeight(d.Missed, top)
			c.Bars = append(c.Bars, Bar{X: x, Y: plotBottom - mh, W: w, H: mh, Class: "bar-missed",
				Title: fmt.Sprintf("%s: %d missed", date, d.Missed)})
		}
		if i%every == 0 {
			c.XTicks = append(c.XTicks, Tick{X: x + w/2, Y: plotBottom + 16, Label: d.Date.Format("2 Jan")})
		}
	}
	return c
}

// CSATChart draws the distribution of satisfaction ratings 1..5.
func CSATChart(csat [5]int) BarChart {
	most := 0
	for _, n := range csat {
		most = max(most, n)
	}
	c, top := newBarChart(most)
	slot := (plotRight - plotLeft) / 5
	for i, n := range csat {
		x := plotLeft + i*slot + slot/6
		w := slot * 2 / 3
		h := barHeight(n, top)
		c.Bars = append(c.Bars, Bar{X: x, Y: plotBottom - h, W: w, H: h, Class: "bar-csat bar-csat-" + strconv.Itoa(i+1),
			Title: fmt.Sprintf("Rating %d: %d chats", i+1, n)})
		c.XTicks = append(c.XTicks, Tick{X: x + w/2, Y: plotBottom + 16, Label: strconv.Itoa(i + 1)})
	}
	return c
}

// HeatCell is one cell of the weekday × hour heatmap.
type HeatCell struct {
	X, Y, W, H int
	// Level is 0 (no chats) to 5 (the busiest hours); the CSS colours each level.
	Level int
	Title string
}

// Heatmap is the weekday × hour chart.
type Heatmap struct {
	Width, Height int
	Cells         []HeatCell
	Rows, Columns []Tick
}

// Weekdays are the heatmap's rows, Monday first.
var Weekdays = [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// HeatmapChart draws counts (weekday, Monday first × hour) as a grid of cells.
func HeatmapChart(counts [7][24]int) Heatmap {
	const left, top, cell = 44, 22, 27
	h := Heatmap{Width: left + 24*cell + 4, Height: top + 7*cell + 4}
	most := 0
	for _, row := range counts {
		for _, n := range row {
			most = max(most, n)
		}
	}
	for hr := 0; hr < 24; hr += 3 {
		h.Columns = append(h.Columns, Tick{X: left + hr*cell + cell/2, Y: top - 8, Label: fmt.Sprintf("%02d", hr)})
	}
	for d, row := range counts {
		h.Rows = append(h.Rows, Tick{X: left - 6, Y: top + d*cell + cell/2 + 4, Label: Weekdays[d]})
		for hr, n := range row {
			level := 0
			if n > 0 && most > 0 {
				level = 1 + (n*5-1)/most // 1..5 by fifths of the busiest hour
			}
			h.Cells = append(h.Cells, HeatCell{X: left + hr*cell, Y: top + d*cell, W: cell - 2, H: cell - 2, Level: level,
				Title: fmt.Sprintf("%s %02d:00–%02d:00: %d chats", Weekdays[d], hr, (hr+1)%24, n)})
		}
	}
	return h
}

// FormatDuration writes a duration for people: "42 s", "3 min 05 s", "1 h 02 min"; "–" for none.
func FormatDuration(d time.Duration, n int) string {
	if n == 0 {
		return "–"
	}
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %02d s", s/60, s%60)
	default:
		return fmt.Sprintf("%d h %02d min", s/3600, (s%3600)/60)
	}
}

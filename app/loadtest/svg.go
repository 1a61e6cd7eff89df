package loadtest

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// WriteSVG draws the run's timeline: ack p50 and p99 and delivery p99 (milliseconds, left axis)
// and acked messages per second (bars, right scale) over the measured phase.
func WriteSVG(w io.Writer, title string, points []Point, step float64) error {
	const width, height, left, right, top, bottom = 900.0, 420.0, 60.0, 60.0, 40.0, 40.0
	plotW, plotH := width-left-right, height-top-bottom
	maxMS, maxRate := 1.0, 1.0
	for _, p := range points {
		maxMS = max(maxMS, p.AckP99, p.DelivP99, p.AckP50)
		maxRate = max(maxRate, float64(p.Acked)/step)
	}
	n := max(len(points), 1)
	x := func(i int) float64 { return left + plotW*float64(i)/float64(n) }
	y := func(v, top0 float64) float64 { return top + plotH - plotH*v/top0 }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><text x="%.0f" y="24" font-size="15">%s</text>`+"\n", left, html.EscapeString(title))
	for i := range n {
		if i >= len(points) {
			break
		}
		r := float64(points[i].Acked) / step
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#dbeafe"/>`+"\n", x(i), y(r, maxRate), plotW/float64(n), top+plotH-y(r, maxRate))
	}
	line := func(color string, get func(Point) float64) {
		var pts []string
		for i, p := range points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i)+plotW/float64(n)/2, y(get(p), maxMS)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", color, strings.Join(pts, " "))
	}
	line("#16a34a", func(p Point) float64 { return p.AckP50 })
	line("#dc2626", func(p Point) float64 { return p.AckP99 })
	line("#7c3aed", func(p Point) float64 { return p.DelivP99 })
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#000"/><line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#000"/>`+"\n",
		left, top, left, top+plotH, left, top+plotH, left+plotW, top+plotH)
	for i := 0; i <= 4; i++ {
		v := maxMS * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end">%.0f ms</text>`+"\n", left-4, y(v, maxMS)+4, v)
		r := maxRate * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f">%.0f/s</text>`+"\n", left+plotW+4, y(r, maxRate)+4, r)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">seconds (%d intervals of %.2f s)</text>`+"\n", left+plotW/2, height-10, len(points), step)
	legend := []struct{ color, label string }{{"#16a34a", "ack p50"}, {"#dc2626", "ack p99"}, {"#7c3aed", "delivery p99"}, {"#93c5fd", "acked/s"}}
	for i, l := range legend {
		fmt.Fprintf(&b, `<rect x="%.0f" y="30" width="10" height="10" fill="%s"/><text x="%.0f" y="39">%s</text>`+"\n", left+plotW-360+float64(i)*95, l.color, left+plotW-346+float64(i)*95, l.label)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

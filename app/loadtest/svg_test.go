package loadtest

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

// TestWriteSVG: the chart is well-formed XML with one bar per interval and the title escaped.
func TestWriteSVG(t *testing.T) {
	acks := []sample{{at: 0, took: 5 * time.Millisecond}, {at: 300 * time.Millisecond, took: 9 * time.Millisecond},
		{at: 800 * time.Millisecond, took: 40 * time.Millisecond}}
	points := timeline(acks, acks, 250*time.Millisecond)
	if len(points) != 4 || points[0].Acked != 1 || points[2].Acked != 0 || points[3].AckP99 != 40 {
		t.Fatalf("timeline: got %+v", points)
	}
	var b strings.Builder
	if err := WriteSVG(&b, `a <b> & "c"`, points, 0.25); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(strings.NewReader(b.String()))
	rects, title := 0, ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, b.String())
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
		if cd, ok := tok.(xml.CharData); ok && title == "" && strings.TrimSpace(string(cd)) != "" {
			title = string(cd)
		}
	}
	if title != `a <b> & "c"` {
		t.Errorf("got title %q", title)
	}
	// background, 4 bars, 4 legend swatches
	if rects != 9 {
		t.Errorf("got %d rects, want 9", rects)
	}
}

// TestSummarize: nearest-rank percentiles.
func TestSummarize(t *testing.T) {
	var s []sample
	for i := 1; i <= 100; i++ {
		s = append(s, sample{took: time.Duration(i) * time.Millisecond})
	}
	got := summarize(s)
	if got.Count != 100 || got.P50 != 50 || got.P95 != 95 || got.P99 != 99 || got.Max != 100 {
		t.Errorf("got %+v, want 100 samples, p50 50, p95 95, p99 99, max 100", got)
	}
	if (summarize(nil) != Percentiles{}) {
		t.Error("no samples: want zero percentiles")
	}
}

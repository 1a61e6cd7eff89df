package scan

import (
	"context"
	"strings"
	"testing"
)

// logText looks like Parley's JSON logs: timestamps, ids and paths on every line.
var logText = strings.Repeat(`{"time":"2026-01-05T09:00:00.123Z","level":"INFO","msg":"http request","request_id":"8f14e45fceea167a5a36dedd4bea2543",`+
	`"method":"POST","path":"/api/v1/widget/sites/site_abcdefghijkl/chats/0195f0c2-1d2e-7a3b-8c4d-5e6f7a8b9c0d/messages","status":200,"bytes":96,"duration_ms":3}`+"\n", 2000)

// BenchmarkStream is the file scan's speed on log-like text.
func BenchmarkStream(b *testing.B) {
	b.SetBytes(int64(len(logText)))
	b.ReportAllocs()
	for b.Loop() {
		var loc Location
		if err := (&Scanner{}).counter(&loc).stream(context.Background(), strings.NewReader(logText), func(int64) {}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValue is the database scan's cost per column value (a short chat text).
func BenchmarkValue(b *testing.B) {
	v := []byte("Hi, my order 58213 hasn't arrived, can you check? Thanks!")
	var loc Location
	c := (&Scanner{}).counter(&loc)
	b.SetBytes(int64(len(v)))
	b.ReportAllocs()
	for b.Loop() {
		c.value(v, func() string { return "" })
	}
}

package pan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// cardHolder is a struct logged as an arbitrary value.
type cardHolder struct {
	Name string
	Note string
}

// stringer is a fmt.Stringer that reveals a card number.
type stringer struct{}

func (stringer) String() string { return "token for 5555555555554444" }

// valuer is a slog.LogValuer that reveals a card number.
type valuer struct{}

func (valuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("pan", "378282246310005"), slog.Int("n", 1))
}

func newLogger(buf *bytes.Buffer, m *Masker) *slog.Logger {
	return slog.New(NewHandler(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}), m))
}

func TestHandlerMasksEverything(t *testing.T) {
	m := newMasker(t, Options{Mode: ModeLast4})
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want []string // substrings of the JSON line
	}{
		{"message", func(l *slog.Logger) { l.Info("visitor typed 4111 1111 1111 1111 cvv 123") },
			[]string{`"msg":"visitor typed •••• •••• •••• 1111 cvv •••"`}},
		{"string attr", func(l *slog.Logger) { l.Info("m", "text", "pan 4111111111111111") },
			[]string{`"text":"pan ••••••••••••1111"`}},
		{"nested groups", func(l *slog.Logger) {
			l.Info("m", slog.Group("chat", slog.Group("msg", slog.String("body", "4111-1111-1111-1111"))))
		}, []string{`"chat":{"msg":{"body":"••••-••••-••••-1111"}}`}},
		{"error value", func(l *slog.Logger) {
			l.Error("m", "err", fmt.Errorf("charge failed for %s: %w", "4111111111111111", errors.New("declined")))
		}, []string{`"err":"charge failed for ••••••••••••1111: declined"`}},
		{"stringer", func(l *slog.Logger) { l.Info("m", "v", stringer{}) }, []string{`"v":"token for ••••••••••••4444"`}},
		{"struct", func(l *slog.Logger) { l.Info("m", "v", cardHolder{Name: "Ann", Note: "4111111111111111"}) },
			[]string{`"v":"{Name:Ann Note:••••••••••••1111}"`}},
		{"bytes", func(l *slog.Logger) { l.Info("m", "raw", []byte("pan=4111111111111111")) },
			[]string{`"raw":"pan=••••••••••••1111"`}},
		{"int64", func(l *slog.Logger) { l.Info("m", "n", int64(4111111111111111)) }, []string{`"n":"••••••••••••1111"`}},
		{"uint64", func(l *slog.Logger) { l.Info("m", "n", uint64(5555555555554444)) }, []string{`"n":"••••••••••••4444"`}},
		{"float64", func(l *slog.Logger) { l.Info("m", "n", float64(4111111111111111)) }, []string{`"n":"••••••••••••1111"`}},
		{"log valuer", func(l *slog.Logger) { l.Info("m", "v", valuer{}) }, []string{`"v":{"pan":"•••••••••••0005","n":1}`}},
		{"attr key", func(l *slog.Logger) { l.Info("m", "4111111111111111", 1) }, []string{`"••••••••••••1111":1`}},
		{"with attrs", func(l *slog.Logger) { l.With("card", "4111111111111111").Info("m") },
			[]string{`"card":"••••••••••••1111"`}},
		{"with group", func(l *slog.Logger) { l.WithGroup("g").Info("m", "card", "4111111111111111") },
			[]string{`"g":{"card":"••••••••••••1111"}`}},
		{"untouched values keep their type", func(l *slog.Logger) {
			l.Info("hello", "n", 42, "ok", true, "err", errors.New("plain"), "s", "no card 1234")
		}, []string{`"msg":"hello"`, `"n":42`, `"ok":true`, `"err":"plain"`, `"s":"no card 1234"`}},
		{"small numbers kept", func(l *slog.Logger) { l.Info("m", "n", int64(123456789)) }, []string{`"n":123456789`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(newLogger(&buf, m))
			out := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("log line %s\nwant it to contain %s", out, w)
				}
			}
			for _, pan := range []string{"4111111111111111", "5555555555554444", "378282246310005", "1111 1111 1111 1111", "cvv 123"} {
				if strings.Contains(out, pan) {
					t.Errorf("log line %s leaks %q", out, pan)
				}
			}
		})
	}
}

// recordingHandler keeps the records it receives.
type recordingHandler struct {
	records []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.records = append(h.records, r)
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func TestHandlerPassesCleanRecordsThrough(t *testing.T) {
	rec := &recordingHandler{}
	m := newMasker(t, Options{})
	l := slog.New(NewHandler(rec, m))
	err := errors.New("plain")
	l.Info("clean", "err", err)
	if len(rec.records) != 1 {
		t.Fatalf("got %d records, want 1", len(rec.records))
	}
	rec.records[0].Attrs(func(a slog.Attr) bool {
		if a.Value.Any() != err {
			t.Errorf("attr %v was replaced, want the original error value", a)
		}
		return true
	})
	if !NewHandler(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}), m).Enabled(context.Background(), slog.LevelWarn) {
		t.Errorf("Enabled(Warn) = false, want the wrapped handler's answer")
	}
}

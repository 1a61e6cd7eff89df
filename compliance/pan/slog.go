package pan

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
)

// Handler is a slog.Handler that masks card numbers before records reach
// the handler it wraps: in the message, in attribute keys and in every
// attribute value that can carry text — strings, groups (at any depth),
// errors (by their Error text), fmt.Stringers, byte slices, other values by
// their %+v form, and integers and floats large enough to be a card
// number. A value that holds no card number is passed on unchanged, with
// its type; one that does is replaced by its masked text. Expiry dates and
// codes next to a card number are masked as in Masker.Mask.
type Handler struct {
	next slog.Handler
	m    *Masker
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a Handler that masks with m and passes records to next.
func NewHandler(next slog.Handler, m *Masker) *Handler {
	return &Handler{next: next, m: m}
}

// Enabled reports whether the wrapped handler handles records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle masks r and passes it to the wrapped handler. A record without
// card data is passed as it is.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	msg, res := h.m.Mask(r.Message)
	changed := res.Found()
	var buf [8]slog.Attr
	attrs := buf[:0]
	r.Attrs(func(a slog.Attr) bool {
		ma, c := h.maskAttr(a)
		changed = changed || c
		attrs = append(attrs, ma)
		return true
	})
	if !changed {
		return h.next.Handle(ctx, r)
	}
	nr := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	nr.AddAttrs(attrs...)
	return h.next.Handle(ctx, nr)
}

// WithAttrs returns a Handler whose wrapped handler has the masked attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i], _ = h.maskAttr(a)
	}
	return &Handler{next: h.next.WithAttrs(masked), m: h.m}
}

// WithGroup returns a Handler whose wrapped handler opens the group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(h.m.MaskString(name)), m: h.m}
}

// maskAttr returns a with card data masked and whether anything changed.
func (h *Handler) maskAttr(a slog.Attr) (slog.Attr, bool) {
	key, kres := h.m.Mask(a.Key)
	v, changed := h.maskValue(a.Value)
	if !changed && !kres.Found() {
		return a, false
	}
	return slog.Attr{Key: key, Value: v}, true
}

// bigNumber is the smallest magnitude a number needs to hold a card number.
const bigNumber = 1e12

// maskValue returns v with card data masked and whether anything changed.
func (h *Handler) maskValue(v slog.Value) (slog.Value, bool) {
	resolved := false
	if v.Kind() == slog.KindLogValuer {
		v = v.Resolve()
		resolved = true
	}
	switch v.Kind() {
	case slog.KindString:
		if s, res := h.m.Mask(v.String()); res.Found() {
			return slog.StringValue(s), true
		}
	case slog.KindGroup:
		attrs := v.Group()
		var out []slog.Attr
		for i, a := range attrs {
			ma, changed := h.maskAttr(a)
			if changed && out == nil {
				out = make([]slog.Attr, len(attrs))
				copy(out, attrs[:i])
			}
			if out != nil {
				out[i] = ma
			}
		}
		if out != nil {
			return slog.GroupValue(out...), true
		}
	case slog.KindInt64:
		if n := v.Int64(); n >= bigNumber || n <= -bigNumber {
			return h.maskText(v, strconv.FormatInt(n, 10), resolved)
		}
	case slog.KindUint64:
		if n := v.Uint64(); n >= bigNumber {
			return h.maskText(v, strconv.FormatUint(n, 10), resolved)
		}
	case slog.KindFloat64:
		if f := v.Float64(); f >= bigNumber || f <= -bigNumber {
			return h.maskText(v, strconv.FormatFloat(f, 'f', -1, 64), resolved)
		}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return h.maskText(v, x.Error(), resolved)
		case fmt.Stringer:
			return h.maskText(v, x.String(), resolved)
		case []byte:
			return h.maskText(v, string(x), resolved)
		case nil:
		default:
			return h.maskText(v, fmt.Sprintf("%+v", x), resolved)
		}
	}
	return v, resolved
}

// maskText returns the masked text of v as a string value when it holds a
// card number, and v otherwise.
func (h *Handler) maskText(v slog.Value, text string, resolved bool) (slog.Value, bool) {
	if s, res := h.m.Mask(text); res.Found() {
		return slog.StringValue(s), true
	}
	return v, resolved
}

package redact

import (
	"strings"
	"unicode/utf8"
)

// Engine applies a tenant's enabled rules. It is immutable and safe for
// concurrent use; build a new one when the tenant's rules change.
type Engine struct {
	rules []*compiledRule
}

// NewEngine validates rules and returns an Engine applying the enabled
// ones in order. Its error is a *RuleError (or wraps ErrTooManyRules) that
// names the offending rule and field.
func NewEngine(rules []Rule) (*Engine, error) {
	cs, err := compileAll(rules)
	if err != nil {
		return nil, err
	}
	return &Engine{rules: cs}, nil
}

// Rules returns the names of the rules the engine applies, in order.
func (e *Engine) Rules() []string {
	names := make([]string, len(e.rules))
	for i, r := range e.rules {
		names[i] = r.name
	}
	return names
}

// Count is how many matches of one rule were replaced.
type Count struct {
	Rule string
	N    int
}

// Result tells what Apply replaced, per rule, in rule order; rules that did
// not match are left out. It never holds the matched text.
type Result struct {
	Counts []Count
}

// Total returns the number of replacements.
func (r Result) Total() int {
	n := 0
	for _, c := range r.Counts {
		n += c.N
	}
	return n
}

// Apply runs the enabled rules over text one after the other (each rule
// sees the previous one's output) and returns the result. Text that no
// rule matches is returned as is.
func (e *Engine) Apply(text string) (string, Result) {
	var res Result
	for _, r := range e.rules {
		out, n := r.apply(text, nil)
		if n > 0 {
			res.Counts = append(res.Counts, Count{Rule: r.name, N: n})
			text = out
		}
	}
	return text, res
}

// span is one replaced match, for previews.
type span struct {
	start, end int
	valid      bool
}

// apply replaces the matches of r in text and returns the result and their
// number. When trace is not nil every candidate is recorded, rejected ones
// included.
func (r *compiledRule) apply(text string, trace *[]span) (string, int) {
	if r.validate == nil {
		return r.applyAll(text, trace)
	}
	if r.mayMatch != nil && !r.mayMatch(text) {
		return text, 0
	}
	var b strings.Builder
	n, last, pos := 0, 0, 0
	for pos < len(text) {
		loc := r.re.FindStringSubmatchIndex(text[pos:])
		if loc == nil {
			break
		}
		for k := range loc {
			if loc[k] >= 0 {
				loc[k] += pos
			}
		}
		start := loc[0]
		end, ok := r.validate(text, start, loc[1])
		if trace != nil {
			sp := span{start: start, end: loc[1], valid: ok}
			if ok {
				sp.end = end
			}
			*trace = append(*trace, sp)
		}
		if !ok {
			// A valid match may start inside a rejected candidate.
			_, w := utf8.DecodeRuneInString(text[start:])
			pos = start + w
			continue
		}
		for k := range loc {
			loc[k] = min(loc[k], end)
		}
		if n == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[last:start])
		r.write(&b, text, loc)
		last, pos = end, end
		n++
	}
	if n == 0 {
		return text, 0
	}
	b.WriteString(text[last:])
	return b.String(), n
}

// applyAll replaces every match of a rule without validator, with the
// regexp's own leftmost-first, non-overlapping semantics.
func (r *compiledRule) applyAll(text string, trace *[]span) (string, int) {
	if !r.re.MatchString(text) {
		return text, 0
	}
	locs := r.re.FindAllStringSubmatchIndex(text, -1)
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, loc := range locs {
		if trace != nil {
			*trace = append(*trace, span{start: loc[0], end: loc[1], valid: true})
		}
		b.WriteString(text[last:loc[0]])
		r.write(&b, text, loc)
		last = loc[1]
	}
	b.WriteString(text[last:])
	return b.String(), len(locs)
}

// write writes the replacement of the match loc.
func (r *compiledRule) write(b *strings.Builder, text string, loc []int) {
	if r.literal {
		b.WriteString(r.repl)
		return
	}
	var buf [64]byte
	b.Write(r.re.ExpandString(buf[:0], r.repl, text, loc))
}

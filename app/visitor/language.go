package visitor

import (
	"sort"
	"strconv"
	"strings"
)

// maxLanguages bounds how many preferences a request may list.
const maxLanguages = 10

// Languages returns the languages a widget request asks for, most wanted first: explicit (the
// widget's lang parameter: the embedding page's data-lang or <html lang>, else the browser's
// navigator.language), then the tags of an Accept-Language header by falling q-value. Malformed
// tags, "*", tags with q=0 and repeats are left out; at most 10 are returned.
func Languages(explicit, acceptLanguage string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(tag string) {
		tag = CleanLanguage(tag)
		if tag == "" || tag == "*" || seen[strings.ToLower(tag)] || len(out) >= maxLanguages {
			return
		}
		seen[strings.ToLower(tag)] = true
		out = append(out, tag)
	}
	add(explicit)
	type weighted struct {
		tag string
		q   float64
	}
	var prefs []weighted
	for i, part := range strings.Split(acceptLanguage, ",") {
		if i >= 2*maxLanguages {
			break
		}
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if q > 0 {
			prefs = append(prefs, weighted{strings.TrimSpace(tag), q})
		}
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	for _, p := range prefs {
		add(p.tag)
	}
	return out
}

// Negotiate picks the language to answer in: for each preference in order, an offered language
// equal to it (case-insensitive), else its primary language (de-AT asks, de is offered), else a
// regional variant of it (de asks, de-CH is offered). With no match it returns fallback.
func Negotiate(prefs, offered []string, fallback string) string {
	primary := func(tag string) string {
		p, _, _ := strings.Cut(tag, "-")
		return p
	}
	for _, want := range prefs {
		for _, o := range offered {
			if strings.EqualFold(o, want) {
				return o
			}
		}
		for _, o := range offered {
			if strings.EqualFold(o, primary(want)) {
				return o
			}
		}
		for _, o := range offered {
			if strings.EqualFold(primary(o), primary(want)) {
				return o
			}
		}
	}
	return fallback
}

package canned

import "testing"

// BenchmarkExpand measures filling in the placeholders of one composer suggestion, which the
// composer search does for each of up to 20 texts per keystroke.
func BenchmarkExpand(b *testing.B) {
	text := "Hello {visitor_name}, this is {agent_name} from the claims team. Your reference is on its way; reply here if anything is unclear."
	v := Values{VisitorName: "Dana", AgentName: "Sam"}
	b.ReportAllocs()
	for b.Loop() {
		_ = Expand(text, v)
	}
}

// BenchmarkValidate measures checking a canned message before it is stored.
func BenchmarkValidate(b *testing.B) {
	body := "Hello {visitor_name}, this is {agent_name}. We have received your request and will answer within one working day."
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate("/hello", "Greeting", body); err != nil {
			b.Fatal(err)
		}
	}
}

package chat

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat/limit"
)

// rateText spells a rate as the protocol document does: "burst 10, then 1/s".
func rateText(r limit.Rate) string {
	every := time.Duration(float64(time.Second) / r.PerSecond)
	switch {
	case every == time.Minute:
		return fmt.Sprintf("burst %g, then 1/min", r.Burst)
	case every > time.Second:
		return fmt.Sprintf("burst %g, then 1 per %g s", r.Burst, every.Seconds())
	default:
		return fmt.Sprintf("burst %g, then %g/s", r.Burst, r.PerSecond)
	}
}

// TestLimitsDocumented checks that docs/chat-protocol.md states DefaultLimits' figures.
func TestLimitsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/chat-protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultLimits()
	none := "—"
	want := []struct {
		what               string
		visitor, ip, agent string
	}{
		{"messages and files (socket and long poll)", rateText(d.VisitorMessages), rateText(d.IPMessages), rateText(d.AgentMessages)},
		{"chat starts and offline messages", rateText(d.VisitorStarts), rateText(d.IPStarts), none},
		{"page views (`POST /pageviews`)", rateText(d.VisitorPageViews), rateText(d.IPPageViews), none},
		{"socket connects (visitor's `hello` / IP's upgrade)", rateText(d.VisitorConnects), rateText(d.IPConnects), none},
		{"long polls (the IP's share is its connect budget)", rateText(d.VisitorPolls), none, none},
	}
	for _, w := range want {
		row := fmt.Sprintf("| %s | %s | %s | %s |", w.what, w.visitor, w.ip, w.agent)
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/chat-protocol.md lacks the row\n%s", row)
		}
	}
	strikes := []string{
		fmt.Sprintf("strikes leak away at one per %g s", d.ThrottleStrikeDecay.Seconds()),
		fmt.Sprintf("a socket that holds more than %d is closed with 4429", d.ThrottleStrikes),
		fmt.Sprintf("(more than %d strikes, §5.7)", d.ThrottleStrikes),
	}
	flat := strings.Join(strings.Fields(string(doc)), " ")
	for _, s := range strikes {
		if !strings.Contains(flat, s) {
			t.Errorf("docs/chat-protocol.md lacks %q", s)
		}
	}
}

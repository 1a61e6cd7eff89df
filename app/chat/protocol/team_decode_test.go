package protocol

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDecodeTeamFrames(t *testing.T) {
	accepts := []struct {
		name string
		in   string
		want Inbound
	}{
		{"to a colleague", `{"type":"team_message","to_user_id":"u-2","key":"t-1","text":"hi"}`,
			Inbound{Type: TypeTeamMessage, UserID: "u-2", Key: "t-1", Text: "hi"}},
		{"into a thread", `{"type":"team_message","thread_id":"th-1","key":"t-2","text":"<b>x</b>"}`,
			Inbound{Type: TypeTeamMessage, ThreadID: "th-1", Key: "t-2", Text: "<b>x</b>"}},
		{"card number key reaches the service", `{"type":"team_message","thread_id":"th-1","key":"4111 1111 1111 1111","text":"x"}`,
			Inbound{Type: TypeTeamMessage, ThreadID: "th-1", Key: "4111 1111 1111 1111", Text: "x"}},
		{"invite", `{"type":"invite","visitor_id":"v-1"}`, Inbound{Type: TypeInvite, VisitorID: "v-1"}},
		{"invite with message", `{"type":"invite","visitor_id":"v-1","message":"Hello"}`, Inbound{Type: TypeInvite, VisitorID: "v-1", Text: "Hello"}},
	}
	for _, tt := range accepts {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(SideAgent, []byte(tt.in))
			if err != nil {
				t.Fatalf("Decode(%s) error = %v", tt.in, err)
			}
			if got.ConversationID != "" || got.Type != tt.want.Type || got.ThreadID != tt.want.ThreadID || got.UserID != tt.want.UserID || got.Key != tt.want.Key ||
				got.Text != tt.want.Text || got.VisitorID != tt.want.VisitorID {
				t.Errorf("Decode(%s) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
	refuses := []struct {
		name   string
		side   Side
		in     string
		reason string
	}{
		{"visitor sends team message", SideVisitor, `{"type":"team_message","to_user_id":"u","key":"k","text":"x"}`, `unknown type "team_message"`},
		{"visitor invites", SideVisitor, `{"type":"invite","visitor_id":"v"}`, `unknown type "invite"`},
		{"both targets", SideAgent, `{"type":"team_message","thread_id":"t","to_user_id":"u","key":"k","text":"x"}`, "either"},
		{"no target", SideAgent, `{"type":"team_message","key":"k","text":"x"}`, "either"},
		{"bad thread id", SideAgent, `{"type":"team_message","thread_id":"../t","key":"k","text":"x"}`, "valid id"},
		{"no key", SideAgent, `{"type":"team_message","thread_id":"t","text":"x"}`, "key"},
		{"no text", SideAgent, `{"type":"team_message","thread_id":"t","key":"k"}`, "text"},
		{"conversation id", SideAgent, `{"type":"team_message","thread_id":"t","key":"k","text":"x","conversation_id":"c"}`, `unknown field "conversation_id"`},
		{"invite without visitor", SideAgent, `{"type":"invite"}`, "visitor_id"},
		{"invite bad visitor", SideAgent, `{"type":"invite","visitor_id":"a b"}`, "visitor_id"},
		{"invite message not text", SideAgent, `{"type":"invite","visitor_id":"v","message":1}`, "wrong type"},
	}
	for _, tt := range refuses {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.side, []byte(tt.in))
			if !errors.Is(err, ErrBadFrame) {
				t.Fatalf("Decode(%s) error = %v, want ErrBadFrame", tt.in, err)
			}
			if reason := CloseReason(err); !strings.Contains(reason, tt.reason) {
				t.Errorf("CloseReason = %q, want it to contain %q", reason, tt.reason)
			}
		})
	}
}

func TestTeamEventShape(t *testing.T) {
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	b, err := json.Marshal(TeamEvent{Type: TypeTeamEvent, ThreadID: "t", Seq: 2, Sender: Sender{Kind: "agent", ID: "u", Name: "Ann"}, Text: "hi", At: at, SenderKey: "secret-key"})
	if err != nil {
		t.Fatal(err)
	}
	// The sender's key is server-internal: only ForTeamMember puts it on the sender's own copy.
	if got, want := string(b), `{"type":"team_event","thread_id":"t","seq":2,"sender":{"kind":"agent","id":"u","name":"Ann"},"text":"hi","at":"2026-01-05T09:00:00Z"}`; got != want {
		t.Errorf("team_event = %s, want %s", got, want)
	}
}

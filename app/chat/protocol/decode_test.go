package protocol

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name string
		side Side
		in   string
		want Inbound
	}{
		{"visitor hello", SideVisitor, `{"type":"hello","token":"vt_abc","conversation_id":"c-1","last_seq":7}`,
			Inbound{Type: TypeHello, Token: "vt_abc", ConversationID: "c-1", LastSeq: 7}},
		{"visitor message", SideVisitor, `{"type":"message","key":"k:1.a","text":"<b>hi</b>"}`,
			Inbound{Type: TypeMessage, Key: "k:1.a", Text: "<b>hi</b>"}},
		{"visitor empty text passes to sanitizer", SideVisitor, `{"type":"message","key":"k","text":""}`,
			Inbound{Type: TypeMessage, Key: "k"}},
		{"visitor typing", SideVisitor, `{"type":"typing","typing":true}`, Inbound{Type: TypeTyping, Typing: true}},
		{"visitor read", SideVisitor, `{"type":"read","seq":3}`, Inbound{Type: TypeRead, Seq: 3}},
		{"visitor end", SideVisitor, ` {"type":"end"} `, Inbound{Type: TypeEnd}},
		{"ping", SideVisitor, `{"type":"ping"}`, Inbound{Type: TypePing}},
		{"agent message", SideAgent, `{"type":"message","conversation_id":"c1","key":"a","text":"x"}`,
			Inbound{Type: TypeMessage, ConversationID: "c1", Key: "a", Text: "x"}},
		{"agent accept", SideAgent, `{"type":"accept","conversation_id":"c1"}`, Inbound{Type: TypeAccept, ConversationID: "c1"}},
		{"agent transfer dept", SideAgent, `{"type":"transfer","conversation_id":"c1","department_id":"d1"}`,
			Inbound{Type: TypeTransfer, ConversationID: "c1", DepartmentID: "d1"}},
		{"agent transfer agent", SideAgent, `{"type":"transfer","conversation_id":"c1","agent_id":"u1"}`,
			Inbound{Type: TypeTransfer, ConversationID: "c1", AgentID: "u1"}},
		{"agent transfer with a note", SideAgent, `{"type":"transfer","conversation_id":"c1","agent_id":"u1","note":"VIP, <b>be kind</b>"}`,
			Inbound{Type: TypeTransfer, ConversationID: "c1", AgentID: "u1", Note: "VIP, <b>be kind</b>"}},
		{"agent away", SideAgent, `{"type":"status","status":"away"}`, Inbound{Type: TypeStatus, Status: "away"}},
		{"agent online", SideAgent, `{"type":"status","status":"online"}`, Inbound{Type: TypeStatus, Status: "online"}},
		{"monitor", SideAgent, `{"type":"monitor","conversation_id":"c1"}`, Inbound{Type: TypeMonitor, ConversationID: "c1"}},
		{"monitor from seq", SideAgent, `{"type":"monitor","conversation_id":"c1","last_seq":9}`,
			Inbound{Type: TypeMonitor, ConversationID: "c1", LastSeq: 9}},
		{"unmonitor", SideAgent, `{"type":"unmonitor","conversation_id":"c1"}`, Inbound{Type: TypeUnmonitor, ConversationID: "c1"}},
		{"whisper", SideAgent, `{"type":"whisper","conversation_id":"c1","key":"w-1","text":"offer the fee refund"}`,
			Inbound{Type: TypeWhisper, ConversationID: "c1", Key: "w-1", Text: "offer the fee refund"}},
		{"join", SideAgent, `{"type":"join","conversation_id":"c1","last_seq":2}`, Inbound{Type: TypeJoin, ConversationID: "c1", LastSeq: 2}},
		{"leave", SideAgent, `{"type":"leave","conversation_id":"c1"}`, Inbound{Type: TypeLeave, ConversationID: "c1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.side, []byte(tt.in))
			if err != nil {
				t.Fatalf("Decode(%s) error = %v", tt.in, err)
			}
			if got.Type != tt.want.Type || got.Token != tt.want.Token || got.ConversationID != tt.want.ConversationID ||
				got.LastSeq != tt.want.LastSeq || got.Key != tt.want.Key || got.Text != tt.want.Text ||
				got.Typing != tt.want.Typing || got.Seq != tt.want.Seq || got.DepartmentID != tt.want.DepartmentID ||
				got.AgentID != tt.want.AgentID {
				t.Errorf("Decode(%s) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
	in, err := Decode(SideAgent, []byte(`{"type":"hello","conversations":{"a":1,"b":0}}`))
	if err != nil || len(in.Conversations) != 2 || in.Conversations["a"] != 1 {
		t.Errorf("agent hello = %+v, %v, want two conversations", in, err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct {
		name   string
		side   Side
		in     string
		reason string
	}{
		{"empty", SideVisitor, ``, "JSON object"},
		{"array", SideVisitor, `[1]`, "JSON object"},
		{"garbage", SideVisitor, `{"type":`, "invalid JSON"},
		{"no type", SideVisitor, `{"text":"x"}`, "type"},
		{"type not string", SideVisitor, `{"type":1}`, "type"},
		{"unknown type", SideVisitor, `{"type":"hack"}`, `unknown type "hack"`},
		{"agent-only type from visitor", SideVisitor, `{"type":"accept","conversation_id":"c"}`, `unknown type "accept"`},
		{"unknown field", SideVisitor, `{"type":"ping","x":1}`, `unknown field "x"`},
		{"sensitive field name not echoed", SideVisitor, `{"type":"ping","4111111111111111":1}`, "unknown field (unnamed)"},
		{"wrong field type", SideVisitor, `{"type":"typing","typing":"yes"}`, `field "typing" has the wrong type`},
		{"trailing data", SideVisitor, `{"type":"ping"}{"type":"ping"}`, "trailing"},
		{"missing key", SideVisitor, `{"type":"message","text":"x"}`, "key"},
		{"bad key", SideVisitor, `{"type":"message","key":"a b","text":"x"}`, "key"},
		{"long key", SideVisitor, `{"type":"message","key":"` + strings.Repeat("k", 65) + `","text":"x"}`, "key"},
		{"missing text", SideVisitor, `{"type":"message","key":"k"}`, "text"},
		{"null text", SideVisitor, `{"type":"message","key":"k","text":null}`, "text"},
		{"visitor names conversation", SideVisitor, `{"type":"message","conversation_id":"c","key":"k","text":"x"}`, "conversation_id"},
		{"agent omits conversation", SideAgent, `{"type":"message","key":"k","text":"x"}`, "conversation_id"},
		{"hello without token", SideVisitor, `{"type":"hello","conversation_id":"c"}`, "token"},
		{"hello token with space", SideVisitor, `{"type":"hello","token":"a b","conversation_id":"c"}`, "token"},
		{"hello without conversation", SideVisitor, `{"type":"hello","token":"t"}`, "conversation_id"},
		{"hello negative seq", SideVisitor, `{"type":"hello","token":"t","conversation_id":"c","last_seq":-1}`, "last_seq"},
		{"hello fractional seq", SideVisitor, `{"type":"hello","token":"t","conversation_id":"c","last_seq":1.5}`, "wrong type"},
		{"read without seq", SideVisitor, `{"type":"read"}`, "seq"},
		{"typing without flag", SideVisitor, `{"type":"typing"}`, "typing"},
		{"conversation id with slash", SideAgent, `{"type":"accept","conversation_id":"../x"}`, "conversation_id"},
		{"transfer both targets", SideAgent, `{"type":"transfer","conversation_id":"c","department_id":"d","agent_id":"a"}`, "either"},
		{"transfer no target", SideAgent, `{"type":"transfer","conversation_id":"c"}`, "either"},
		{"transfer note too long", SideAgent, `{"type":"transfer","conversation_id":"c","agent_id":"a","note":"` + strings.Repeat("x", 4001) + `"}`, "note"},
		{"status offline", SideAgent, `{"type":"status","status":"offline"}`, "online or away"},
		{"status without status", SideAgent, `{"type":"status"}`, "online or away"},
		{"status with a conversation", SideAgent, `{"type":"status","status":"away","conversation_id":"c"}`, "unknown field"},
		{"visitor sets a status", SideVisitor, `{"type":"status","status":"away"}`, `unknown type "status"`},
		{"agent hello bad id", SideAgent, `{"type":"hello","conversations":{"a/b":1}}`, "conversations"},
		{"visitor monitors", SideVisitor, `{"type":"monitor","conversation_id":"c"}`, `unknown type "monitor"`},
		{"visitor whispers", SideVisitor, `{"type":"whisper","key":"k","text":"x"}`, `unknown type "whisper"`},
		{"visitor joins", SideVisitor, `{"type":"join","conversation_id":"c"}`, `unknown type "join"`},
		{"monitor without conversation", SideAgent, `{"type":"monitor"}`, "monitor needs a conversation_id"},
		{"monitor negative seq", SideAgent, `{"type":"monitor","conversation_id":"c","last_seq":-1}`, "last_seq"},
		{"unmonitor with seq", SideAgent, `{"type":"unmonitor","conversation_id":"c","last_seq":1}`, `unknown field "last_seq"`},
		{"whisper without key", SideAgent, `{"type":"whisper","conversation_id":"c","text":"x"}`, "whisper needs a key"},
		{"whisper without text", SideAgent, `{"type":"whisper","conversation_id":"c","key":"k"}`, "whisper needs a text"},
		{"whisper without conversation", SideAgent, `{"type":"whisper","key":"k","text":"x"}`, "whisper needs a conversation_id"},
		{"join bad id", SideAgent, `{"type":"join","conversation_id":"a/b"}`, "conversation_id"},
		{"leave extra field", SideAgent, `{"type":"leave","conversation_id":"c","text":"bye"}`, `unknown field "text"`},
		{"type twice", SideVisitor, `{"type":"ping","type":"message"}`, `key "type" given twice`},
		{"field twice", SideVisitor, `{"type":"message","key":"k","text":"a","text":"b"}`, `key "text" given twice`},
		{"nested key twice", SideAgent, `{"type":"hello","conversations":[{"id":"c","id":"d"}]}`, `key "id" given twice`},
		{"type in another case", SideVisitor, `{"TYPE":"ping"}`, `key (unnamed) must be written "type"`},
		{"field in another case", SideVisitor, `{"type":"message","key":"k","Text":"a"}`, `key (unnamed) must be written "text"`},
		{"oversized", SideVisitor, `{"type":"message","key":"k","text":"` + strings.Repeat("x", MaxFrameBytes) + `"}`, "larger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.side, []byte(tt.in))
			if !errors.Is(err, ErrBadFrame) {
				t.Fatalf("Decode(%.60s) error = %v, want ErrBadFrame", tt.in, err)
			}
			if reason := CloseReason(err); !strings.Contains(reason, tt.reason) || !strings.HasPrefix(reason, "bad_frame: ") {
				t.Errorf("CloseReason = %q, want it to contain %q", reason, tt.reason)
			}
		})
	}
}

func TestOutboundShapes(t *testing.T) {
	b, err := json.Marshal(Ack{Type: TypeAck, ConversationID: "c", Key: "k", Seq: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"type":"ack","conversation_id":"c","key":"k","seq":4,"duplicate":false}`; got != want {
		t.Errorf("ack = %s, want %s", got, want)
	}
	// The visitor's numbering is server-internal: it never goes on the wire.
	b, err = json.Marshal(Event{Type: TypeEvent, ConversationID: "c", Seq: 5, Kind: "whisper", Audience: "agents", VisitorSeq: 4, TargetVisitorSeq: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); strings.Contains(got, "visitor") || !strings.Contains(got, `"audience":"agents"`) {
		t.Errorf("event = %s, want the audience and no visitor numbering", got)
	}
	b, _ = json.Marshal(Event{Type: TypeEvent, ConversationID: "c", Seq: 5, Kind: "message"})
	if strings.Contains(string(b), "audience") {
		t.Errorf("event = %s, want no audience on an event everyone sees", b)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","token":"vt_x","conversation_id":"c","last_seq":1}`,
		`{"type":"message","key":"k","text":"hi"}`,
		`{"type":"message","conversation_id":"c","key":"k","text":"hi"}`,
		`{"type":"transfer","conversation_id":"c","agent_id":"a"}`,
		`{"type":"monitor","conversation_id":"c","last_seq":3}`, `{"type":"whisper","conversation_id":"c","key":"k","text":"x"}`,
		`{"type":"join","conversation_id":"c"}`, `{"type":"leave","conversation_id":"c"}`,
		`{"type":"hello","conversations":{"a":1}}`,
		`{"type":"typing","typing":true}`, `{"type":"read","seq":1e3}`, `{"type":"ping"}`, `{"type":"\u0000"}`,
		`{"type":"ping","type":"end"}`, `{}`, `{"type":"message","key":"k","text":"\ud800"}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, agent bool) {
		side := SideVisitor
		if agent {
			side = SideAgent
		}
		in, err := Decode(side, data)
		if err != nil {
			if !errors.Is(err, ErrBadFrame) {
				t.Fatalf("error %v does not wrap ErrBadFrame", err)
			}
			r := CloseReason(err)
			if len(r) > 123 || !utf8.ValidString(r) {
				t.Fatalf("close reason %q is not a valid close reason", r)
			}
			for i := 0; i < len(r); i++ {
				if r[i] < 0x20 || r[i] > 0x7e {
					t.Fatalf("close reason %q holds non-printable byte", r)
				}
			}
			return
		}
		switch in.Type {
		case TypeHello, TypeMessage, TypeTyping, TypeRead, TypeEnd, TypePing:
		case TypeAccept, TypeRefuse, TypeTransfer, TypeMonitor, TypeUnmonitor, TypeWhisper, TypeJoin, TypeLeave:
			if !agent {
				t.Fatalf("visitor frame decoded as agent-only type %q", in.Type)
			}
		default:
			t.Fatalf("decoded unknown type %q", in.Type)
		}
		if (in.Type == TypeMessage || in.Type == TypeWhisper) && !ValidKey(in.Key) {
			t.Fatalf("message with invalid key %q", in.Key)
		}
		if agent && in.Type != TypeHello && in.Type != TypePing && !ValidID(in.ConversationID) {
			t.Fatalf("agent %s without valid conversation id", in.Type)
		}
		if !agent && in.Type != TypeHello && in.ConversationID != "" {
			t.Fatalf("visitor %s carried conversation id", in.Type)
		}
		if in.LastSeq < 0 || in.Seq < 0 {
			t.Fatalf("negative seq decoded: %+v", in)
		}
	})
}

func BenchmarkDecodeMessage(b *testing.B) {
	frame := []byte(`{"type":"message","key":"c-7f3a5e0c","text":"Hello, my card was declined at the checkout"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(SideVisitor, frame); err != nil {
			b.Fatal(err)
		}
	}
}

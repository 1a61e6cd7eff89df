package loadtest

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"
)

// TestCheckerCatches: a server that breaks the delivery contract is caught — a lost, a repeated,
// a reordered message and a card number in clear each fail the run.
func TestCheckerCatches(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault func(n int64, ev []byte) [][]byte
		check func(r *Result) bool
	}{
		{"lost", func(n int64, ev []byte) [][]byte {
			if n == 5 {
				return nil
			}
			return [][]byte{ev}
		}, func(r *Result) bool { return r.Lost > 0 }},
		{"duplicated", func(n int64, ev []byte) [][]byte {
			if n == 5 {
				return [][]byte{ev, ev}
			}
			return [][]byte{ev}
		}, func(r *Result) bool { return r.Duplicated > 0 }},
		{"reordered", func() func(n int64, ev []byte) [][]byte {
			var held []byte
			return func(n int64, ev []byte) [][]byte {
				switch n {
				case 4:
					held = ev
					return nil
				case 5:
					return [][]byte{ev, held}
				}
				return [][]byte{ev}
			}
		}(), func(r *Result) bool { return r.OutOfOrder > 0 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBaseline()
			b.fault = tt.fault
			srv := httptest.NewServer(b)
			defer srv.Close()
			res, err := Run(context.Background(), Config{BaseURL: srv.URL, Baseline: true, Visitors: 1, Messages: 8, InFlight: 1,
				DrainTimeout: 500_000_000})
			if err != nil {
				t.Fatal(err)
			}
			if res.ContractOK || !tt.check(res) {
				t.Errorf("got contract ok %v, lost %d, duplicated %d, out of order %d; want the fault caught",
					res.ContractOK, res.Lost, res.Duplicated, res.OutOfOrder)
			}
		})
	}
}

// TestCheckerCardInClear: a card number that reaches the agent in clear breaks the contract.
func TestCheckerCardInClear(t *testing.T) {
	r := &run{cfg: Config{}}
	c := &conv{msgs: make([]msg, 1)}
	c.msgs[0] = msg{card: true, ackSeq: 1}
	r.agentEvent(c, frame{Type: "event", Seq: 1, Kind: "message", Text: text(0, 0, 80, true),
		Sender: &struct {
			Kind string `json:"kind"`
		}{Kind: "visitor"}})
	res := &Result{}
	r.check([]*conv{c}, res)
	if res.ContractOK || res.CardsInClear != 1 {
		t.Errorf("got contract ok %v, %d cards in clear; want the clear card caught", res.ContractOK, res.CardsInClear)
	}
	if !bytes.Contains([]byte(text(0, 0, 80, true)), []byte(Card)) {
		t.Error("the card message does not carry the card")
	}
}

// TestText: messages are as long as asked, carry their numbers, and only card messages hold
// digits that read as a card number.
func TestText(t *testing.T) {
	for _, size := range []int{64, 120, 4000} {
		for _, card := range []bool{false, true} {
			s := text(12, 345, size, card)
			if len(s) > size || len(s) < size-1 {
				t.Errorf("text(size %d): got %d bytes", size, len(s))
			}
			if n, ok := parseText(s); !ok || n != 345 {
				t.Errorf("parseText(%q) = %d, %v; want 345", s[:20], n, ok)
			}
		}
	}
	if n, ok := parseKey(key(7, 99)); !ok || n != 99 {
		t.Errorf("parseKey: got %d, %v; want 99", n, ok)
	}
}

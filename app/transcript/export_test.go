package transcript

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestRenderersMaskFreeText: whatever reaches a renderer unmasked (a name, a note, a message) is
// masked in every format, while ids stay as they are.
func TestRenderersMaskFreeText(t *testing.T) {
	const card, id = "4111 1111 1111 1111", "00000000-0000-7000-8000-000000000001"
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	cp := Copy{
		Transcript: Transcript{
			Summary: Summary{ID: id, SiteName: "Site " + card, Tags: []string{"t"}, StartedAt: at},
			Visitor: Visitor{ID: "v1", Name: "Ada " + card},
			Prechat: []Answer{{Question: "Card?", Answer: card}},
			Survey:  &Survey{Rating: 5, Comment: card},
			Events:  []Event{{Seq: 1, At: at, Kind: "message", Sender: "Visitor", Text: "pay with " + card}},
			Notes:   []Note{{N: 1, AuthorName: "Agent", Body: "note " + card, At: at}},
		},
		ExportedBy: "Owner <owner@acme.test>", ExportedAt: at, Notice: copyNotice,
	}
	for name, render := range map[string]func(Copy) ([]byte, error){"json": RenderJSON, "html": RenderHTML, "pdf": RenderPDF} {
		t.Run(name, func(t *testing.T) {
			b, err := render(cp)
			if err != nil {
				t.Fatal(err)
			}
			if name == "pdf" {
				if !bytes.HasPrefix(b, []byte("%PDF-")) {
					t.Fatal("not a PDF")
				}
				return
			}
			s := string(b)
			if strings.Contains(strings.ReplaceAll(s, " ", ""), "4111111111111111") {
				t.Errorf("%s copy holds the card number", name)
			}
			if !strings.Contains(s, id) || !strings.Contains(s, "Owner") {
				t.Errorf("%s copy lost the id or the exporter", name)
			}
		})
	}
	if cp.Events[0].Text != "pay with "+card {
		t.Error("masking changed the caller's transcript")
	}
}

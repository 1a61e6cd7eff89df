package pan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// chatText is chat-like English with a few digits: the common case.
var chatText = strings.Repeat("Hi, I ordered a blue jacket last week and it hasn't arrived yet. "+
	"Could you check the status for me please? The order number is 58213 and I paid by card. "+
	"Thanks so much for your help, have a lovely day! ", 40)

// chatNoDigits is chat-like text without any digit.
var chatNoDigits = strings.Repeat("Hello! How can I help you today? I'd be happy to look into your delivery. "+
	"Please hold on while I check with the warehouse team. ", 50)

// cjkText is Japanese chat text, all multi-byte.
var cjkText = strings.Repeat("こんにちは、先週注文したジャケットがまだ届いていません。確認していただけますか？", 60)

// digitHeavyText looks like a log: timestamps, ids and amounts on every line.
var digitHeavyText = strings.Repeat("2025-03-31T12:00:00.123Z level=INFO conversation=8f14e45f seq=104233 "+
	"visitor=203.0.113.42 amount=1299.95 order=ORD-2025-0042117 latency_ms=12\n", 30)

// cardMessage is one visitor message with a card number, expiry and code.
const cardMessage = "Sure, my card is 4111 1111 1111 1111, exp 12/26 and the CVV is 123. Thanks!"

func benchMask(b *testing.B, text string) {
	m := newMasker(b, Options{})
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		m.Mask(text)
	}
}

func BenchmarkMaskChat(b *testing.B)         { benchMask(b, chatText) }
func BenchmarkMaskChatNoDigits(b *testing.B) { benchMask(b, chatNoDigits) }
func BenchmarkMaskCJK(b *testing.B)          { benchMask(b, cjkText) }
func BenchmarkMaskDigitHeavy(b *testing.B)   { benchMask(b, digitHeavyText) }

func BenchmarkContainsChat(b *testing.B) {
	b.SetBytes(int64(len(chatText)))
	b.ReportAllocs()
	for b.Loop() {
		Contains(chatText)
	}
}

func BenchmarkMaskMessageWithCard(b *testing.B) { benchMask(b, cardMessage) }

func BenchmarkMaskMessageWithoutCard(b *testing.B) {
	benchMask(b, "Hi, my order 58213 hasn't arrived, can you check? Thanks!")
}

func BenchmarkSplitDetectorMessage(b *testing.B) {
	m := newMasker(b, Options{})
	d, err := NewSplitDetector(m, SplitOptions{})
	if err != nil {
		b.Fatal(err)
	}
	msgs := []string{"Hi, my order 58213 hasn't arrived", "4111 1111", "1111 1111", "thanks!"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Mask(fmt.Sprint("visitor", i%64), "m", msgs[i%len(msgs)])
		i++
	}
}

func BenchmarkRedactStream(b *testing.B) {
	in := strings.Repeat(chatText[:200]+"\n", 500) + strings.Repeat(cardMessage+"\n", 20)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := RedactStream(strings.NewReader(in), io.Discard, StreamOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandler(b *testing.B) {
	m := newMasker(b, Options{})
	var buf bytes.Buffer
	l := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil), m))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		l.LogAttrs(ctx, slog.LevelInfo, "message delivered", slog.String("conversation", "8f14e45f"),
			slog.Int("seq", 104233), slog.Duration("latency", 12*time.Millisecond))
	}
}

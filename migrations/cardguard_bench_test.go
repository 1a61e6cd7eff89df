package migrations

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
)

// benchEvent is a chat message row as the engine writes it: ids, a client key, ciphertext.
type benchEvent struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	ConversationID string
	Seq            int64
	Kind           string
	SenderKind     string
	SenderID       string
	IdempotencyKey *string
	Body           string
	Event          string
	Data           string
	Audience       string
	CreatedAt      time.Time
}

func (benchEvent) TableName() string { return "conversation_events" }

// BenchmarkCardGuardCreate measures what the card guard adds to building an insert of a chat
// message row (DryRun: GORM's callbacks without the database round trip), against the same
// statement without the guard.
func BenchmarkCardGuardCreate(b *testing.B) {
	for _, guarded := range []bool{false, true} {
		name := "without"
		if guarded {
			name = "with"
		}
		b.Run(name, func(b *testing.B) {
			g, err := gorm.Open(sqlite.Open(filepath.Join(b.TempDir(), "b.db")), &gorm.Config{SkipDefaultTransaction: true})
			if err != nil {
				b.Fatal(err)
			}
			if guarded {
				if err := registerCardGuard(g); err != nil {
					b.Fatal(err)
				}
			}
			dry := g.Session(&gorm.Session{DryRun: true})
			key := "v-uyevmxpjvbcokleqoiwssxhl"
			row := benchEvent{ID: "0193a7c2-8d41-7c3e-9a11-4b2c3d4e5f60", TenantID: "0193a7c2-8d41-7c3e-9a11-4b2c3d4e5f61",
				ConversationID: "0193a7c2-8d41-7c3e-9a11-4b2c3d4e5f62", Seq: 7, Kind: "message", SenderKind: "visitor",
				SenderID: "0193a7c2-8d41-7c3e-9a11-4b2c3d4e5f63", IdempotencyKey: &key,
				Body:     "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0BBQkNERUZH",
				Audience: "all", CreatedAt: time.Unix(1_800_000_000, 0)}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := row
				if err := dry.Create(&r).Error; err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package keysapi

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/vault"
)

func TestRotationPolicy(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	created := now.AddDate(0, -3, 0)
	for _, tc := range []struct {
		name    string
		key     vault.KeyStatus
		since   time.Time
		due     time.Time
		age     int
		overdue bool
	}{
		{name: "never rotated: from its creation", key: vault.KeyStatus{Versions: []vault.KeyVersion{{Version: 1, CreatedAt: created}}},
			since: created, due: created.Add(365 * 24 * time.Hour), age: int(now.Sub(created) / (24 * time.Hour))},
		{name: "rotated", key: vault.KeyStatus{LastRotation: now.AddDate(0, 0, -10), Versions: []vault.KeyVersion{{Version: 1, CreatedAt: created}}},
			since: now.AddDate(0, 0, -10), due: now.AddDate(0, 0, -10).Add(365 * 24 * time.Hour), age: 10},
		{name: "overdue", key: vault.KeyStatus{LastRotation: now.AddDate(-1, 0, -1)},
			since: now.AddDate(-1, 0, -1), due: now.AddDate(-1, 0, -1).Add(365 * 24 * time.Hour), age: 366, overdue: true},
		{name: "nothing known", key: vault.KeyStatus{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rotationOf(vault.TenantKeyReport{Key: tc.key}, now)
			if !r.Since.Equal(tc.since) || !r.Due.Equal(tc.due) || r.AgeDays != tc.age || r.Overdue != tc.overdue || r.PeriodDays != 365 {
				t.Errorf("rotation = %+v, want since %v due %v age %d overdue %t", r, tc.since, tc.due, tc.age, tc.overdue)
			}
		})
	}
}

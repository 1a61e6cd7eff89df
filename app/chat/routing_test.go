package chat

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestPick(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		cands    []Candidate
		required []string
		want     string
	}{
		{"nobody", nil, nil, ""},
		{"least busy", []Candidate{{UserID: "a", Load: 2, Capacity: 3}, {UserID: "b", Load: 1, Capacity: 3}}, nil, "b"},
		{"at capacity is skipped", []Candidate{{UserID: "a", Load: 3, Capacity: 3}, {UserID: "b", Load: 4, Capacity: 5}}, nil, "b"},
		{"everyone at capacity", []Candidate{{UserID: "a", Load: 3, Capacity: 3}, {UserID: "b", Load: 1, Capacity: 1}}, nil, ""},
		{"zero capacity takes nothing", []Candidate{{UserID: "a", Load: 0, Capacity: 0}}, nil, ""},
		{"round-robin among equals", []Candidate{
			{UserID: "a", Load: 1, Capacity: 3, LastOfferedAt: t0.Add(time.Minute)},
			{UserID: "b", Load: 1, Capacity: 3, LastOfferedAt: t0},
		}, nil, "b"},
		{"never offered comes first", []Candidate{
			{UserID: "a", Load: 0, Capacity: 3, LastOfferedAt: t0},
			{UserID: "b", Load: 0, Capacity: 3},
		}, nil, "b"},
		{"ties by id", []Candidate{{UserID: "b", Capacity: 1}, {UserID: "a", Capacity: 1}}, nil, "a"},
		{"skills required", []Candidate{
			{UserID: "a", Capacity: 3, Skills: []string{"french"}},
			{UserID: "b", Load: 2, Capacity: 3, Skills: []string{"french", "mortgages"}},
		}, []string{"mortgages"}, "b"},
		{"all skills required", []Candidate{
			{UserID: "a", Capacity: 3, Skills: []string{"french"}},
			{UserID: "b", Capacity: 3, Skills: []string{"mortgages"}},
		}, []string{"french", "mortgages"}, ""},
		{"skills beat load", []Candidate{
			{UserID: "a", Capacity: 3},
			{UserID: "b", Load: 2, Capacity: 3, Skills: []string{"vip"}},
		}, []string{"vip"}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if i := Pick(tt.cands, tt.required); i >= 0 {
				got = tt.cands[i].UserID
			}
			if got != tt.want {
				t.Errorf("Pick = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPickFairness drives the assignment decision 1,000 times with an injected clock, one new
// chat a second: chats last a few seconds each (their lengths cycle, whoever handles them), so
// loads differ and least-busy decides, and equal loads fall to round-robin. Every agent's share
// stays within ±5% of an equal share, and nobody is ever given a chat over capacity.
func TestPickFairness(t *testing.T) {
	for _, tc := range []struct {
		name       string
		capacities []int
		lengths    []int
	}{
		{"equal chats, four agents", []int{3, 3, 3, 3}, []int{6}},
		{"varied chats, five agents", []int{4, 4, 4, 4, 4}, varied(1000, 3, 9)},
		{"long chats near capacity", []int{2, 2, 2}, []int{5, 6, 7}},
		{"round-robin only", []int{50, 50, 50}, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
			cands := make([]Candidate, len(tc.capacities))
			for i, c := range tc.capacities {
				cands[i] = Candidate{UserID: string(rune('a' + i)), Capacity: c}
			}
			type chat struct {
				agent int
				ends  time.Time
			}
			var live []chat
			got := make([]int, len(cands))
			const n = 1000
			for assigned := 0; assigned < n; {
				clock = clock.Add(time.Second)
				kept := live[:0]
				for _, c := range live {
					if clock.Before(c.ends) {
						kept = append(kept, c)
						continue
					}
					cands[c.agent].Load--
				}
				live = kept
				i := Pick(cands, nil)
				if i < 0 {
					continue // everyone is at capacity: the chat waits
				}
				if cands[i].Load >= cands[i].Capacity {
					t.Fatalf("assigned to %s at capacity", cands[i].UserID)
				}
				cands[i].Load++
				cands[i].LastOfferedAt = clock
				live = append(live, chat{agent: i, ends: clock.Add(time.Duration(tc.lengths[assigned%len(tc.lengths)]) * time.Second)})
				got[i]++
				assigned++
			}
			share := float64(n) / float64(len(cands))
			for i, g := range got {
				if ratio := float64(g) / share; ratio < 0.95 || ratio > 1.05 {
					t.Errorf("agent %s got %d of %d (%.3f of an equal share), want within ±5%%", cands[i].UserID, g, n, ratio)
				}
			}
		})
	}
}

// varied returns n chat lengths between lo and hi seconds, drawn from a fixed seed.
func varied(n, lo, hi int) []int {
	rng := rand.New(rand.NewPCG(14, 16))
	out := make([]int, n)
	for i := range out {
		out[i] = lo + rng.IntN(hi-lo+1)
	}
	return out
}

func TestCleanSkills(t *testing.T) {
	got, err := CleanSkills("skills", []string{" French ", "mortgages", "french", ""})
	if err != nil || strings.Join(got, ",") != "french,mortgages" {
		t.Fatalf("CleanSkills = %v, %v", got, err)
	}
	if _, err := CleanSkills("skills", []string{"two words"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a skill with a space: err = %v, want ErrInvalid", err)
	}
	if _, err := CleanSkills("skills", []string{"4111111111111111"}); !errors.Is(err, ErrCardNumber) {
		t.Errorf("a card number: err = %v, want ErrCardNumber", err)
	}
	if _, err := CleanSkills("skills", []string{"4111", "1111", "1111", "1111"}); !errors.Is(err, ErrCardNumber) {
		t.Errorf("a card number over several skills: err = %v, want ErrCardNumber", err)
	}
	many := make([]string, 21)
	for i := range many {
		many[i] = "s" + string(rune('a'+i))
	}
	if _, err := CleanSkills("skills", many); !errors.Is(err, ErrInvalid) {
		t.Errorf("21 skills: err = %v, want ErrInvalid", err)
	}
}

func TestPrechatSkill(t *testing.T) {
	d := DepartmentRouting{SkillQuestion: "language"}
	for answer, want := range map[string]string{"French": "french", "two words": "", "": "", "4111111111111111": ""} {
		if got := prechatSkill(d, map[string]string{"language": answer}); got != want {
			t.Errorf("prechatSkill(%q) = %q, want %q", answer, got, want)
		}
	}
	if got := prechatSkill(DepartmentRouting{}, map[string]string{"language": "french"}); got != "" {
		t.Errorf("no skill question: %q", got)
	}
}

// BenchmarkPick is the assignment decision for one chat among 50 agents with skills.
func BenchmarkPick(b *testing.B) {
	cands := make([]Candidate, 50)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for i := range cands {
		cands[i] = Candidate{UserID: string(rune('A' + i)), Load: i % 4, Capacity: 4, Skills: []string{"english", "french", "mortgages"},
			LastOfferedAt: t0.Add(time.Duration(i) * time.Second)}
	}
	need := []string{"french", "mortgages"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if Pick(cands, need) < 0 {
			b.Fatal("nobody picked")
		}
	}
}

package signin

import (
	"testing"
	"time"
)

func BenchmarkSignInDecision(b *testing.B) {
	p := DefaultPolicy()
	now := t0
	var acct State
	var ip IPState
	b.ReportAllocs()
	for b.Loop() {
		d := p.Decide(acct, now).Merge(p.DecideIP(ip, now))
		if d.Allowed() {
			acct = p.RecordFailure(acct, now)
			ip = p.RecordIPFailure(ip, now)
		}
		if acct.LifetimeFailures >= p.DisableAfter {
			acct = Reenable(acct)
		}
		now = now.Add(time.Minute)
	}
}

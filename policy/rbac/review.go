package rbac

import "time"

// Access review timing (PCI DSS 7.2.4: all user accounts and their privileges are reviewed at
// least once every six months; 8.2.6: accounts unused for 90 days are removed or disabled).
const (
	// ReviewMonths is the longest time between two signed-off access reviews.
	ReviewMonths = 6
	// InactiveAfter is how long without a sign-in makes an account inactive.
	InactiveAfter = 90 * 24 * time.Hour
)

// ReviewStatus says whether a tenant's access review is current.
type ReviewStatus struct {
	// LastSignedOff is when the last review was signed off; nil if never.
	LastSignedOff *time.Time `json:"last_signed_off"`
	// DueBy is when the next review is due: six months after the last one; for a tenant never
	// reviewed, the moment it was checked.
	DueBy time.Time `json:"due_by"`
	// Overdue is true when no review was ever signed off or the last one is more than six months
	// old. The admin dashboard and the evidence report show it.
	Overdue bool `json:"overdue"`
}

// ReviewStatusAt computes the review status at now from the last sign-off (nil if none).
func ReviewStatusAt(lastSignedOff *time.Time, now time.Time) ReviewStatus {
	if lastSignedOff == nil {
		return ReviewStatus{DueBy: now.UTC(), Overdue: true}
	}
	last := lastSignedOff.UTC()
	due := last.AddDate(0, ReviewMonths, 0)
	return ReviewStatus{LastSignedOff: &last, DueBy: due, Overdue: now.After(due)}
}

// Inactivity reports how long an account has gone without signing in at now (since it was
// created, if it never signed in) and whether that makes it inactive.
func Inactivity(lastSignIn *time.Time, created, now time.Time) (idle time.Duration, inactive bool) {
	since := created
	if lastSignIn != nil && lastSignIn.After(since) {
		since = *lastSignIn
	}
	idle = now.Sub(since)
	if idle < 0 {
		idle = 0
	}
	return idle, idle > InactiveAfter
}

package visitor

import "gorm.io/gorm"

// In returns the store working inside tx, a caller's transaction (a change audited in the same
// transaction), with the store's clock, entropy and maskers.
func (s *Store) In(tx *gorm.DB) *Store {
	in := *s
	in.db = tx
	return &in
}

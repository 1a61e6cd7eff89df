package pan

// last4 is the masker MaskLast4 uses: last four digits, the default mask rune, expiry dates and
// security codes next to a card number masked. Masker holds no mutable state.
var last4 = &Masker{mode: ModeLast4, mask: string(DefaultMaskRune), ctxRunes: DefaultContextRunes}

// MaskLast4 masks every card number in s down to its last four digits (ModeLast4), with the
// expiry dates and security codes next to it. It is the masking of free text that is stored in
// clear — notes, descriptions, user agents, site texts — whatever the tenant's display mode.
func MaskLast4(s string) string { return last4.MaskString(s) }

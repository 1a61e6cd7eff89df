// Package pan finds and masks payment card numbers (PANs) in free text:
// chat messages in both directions, survey answers, offline messages, log
// records, audit details and exports (PCI DSS v4.0.1 3.3.1, 3.4.1, 3.5.1).
//
// # What counts as a card number
//
// Digits are the decimal digits of any script (Unicode category Nd:
// ASCII, full-width, Arabic-Indic, Devanagari, mathematical…), read by
// value. Two digits belong to the same run when nothing, or only invisible
// characters (zero-width space and joiners, word joiner, BOM, soft hyphen,
// variation selectors, the keycap mark; at most 16), or a single separator
// (plus invisible characters) stands between them. Separators come in four
// families: spaces (space, no-break, narrow no-break, thin, figure and
// ideographic spaces), dashes (hyphen-minus, hyphen, non-breaking hyphen,
// figure dash, en dash, minus sign, full-width hyphen), dots and slashes
// (with their full-width forms). A separator splits a run into groups.
//
// A card number is a stretch of whole consecutive groups of a run with
// 13–19 digits whose separators all belong to one family, whose leading
// digits and length match a row of IINTable, and whose Luhn check passes
// when the brand requires it (UnionPay does not). Decisions that follow:
//
//   - A card number may be followed or preceded, in the same run, by other
//     groups: "4111 1111 1111 1111 12/26" and "ref 12 4111 1111 1111 1111"
//     are found, because the window of whole groups stands on its own.
//   - A group of more than 19 digits without separators (an order id, a
//     25-digit reference) is never a card number and is never partly
//     masked; nor is a card number glued to other digits
//     ("41111111111111111234" is a 20-digit number).
//   - Separators of different families do not mix: "30.01.2024 10.15.30"
//     is a date and a time, "4111-1111 1111-1111" is not found either.
//   - A run that directly follows a plus sign and has at most 15 digits is
//     an international phone number (E.164), not a card.
//   - Card numbers may overlap (two numbers sharing digit groups): the
//     digits hidden by any of them are masked. A card number contained in a
//     longer one is reported once, as the longer one.
//   - Letters around the digits do not matter ("card4111111111111111x").
//   - A newline is not a separator: a card number never spans lines.
//
// # Masking
//
// Masker.Mask replaces the digits of each card number by a mask rune,
// keeping the first six (BIN) and last four digits (ModeBINLast4) or only
// the last four (ModeLast4); at least MinHidden digits are always masked,
// so a 13-digit number keeps four leading digits. Within ContextRunes runes
// before and after a card number it also masks expiry dates (MM/YY,
// MM-YYYY, "exp 1226"…) and 3–4 digit security codes introduced by a
// keyword (CVV, CVV2, CVC, CID, CSC, "security code", "card code"…) or
// standing right after the card number and its expiry ("…1111 12/26 123").
// Every other byte of the text is left as it was, invalid UTF-8 included;
// masking is irreversible. Text without a card number is returned as is,
// without allocating.
//
// SplitDetector adds what one sender spreads over consecutive messages;
// RedactStream masks a stream line by line in bounded memory; Handler masks
// log records on their way to another slog.Handler.
package pan

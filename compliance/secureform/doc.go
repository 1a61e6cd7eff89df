// Package secureform holds the card data a visitor submits through Parley's secure card form, in
// the memory of the node that received it and nowhere else (PCI DSS v4.0.1 3.2.1, 3.3.1, 3.4.1,
// 4.2.2).
//
// # What it guarantees
//
//   - Never persisted. Card data lives in fixed-size byte arrays of a Card owned by a Store. Card,
//     Reveal and every type that holds card data print, marshal and log as "[redacted]" whatever
//     the verb or encoder (fmt, encoding/json, encoding/text, log/slog), so a stray log line, error
//     or audit detail cannot carry it. Nothing in this package writes to a database, a log or a
//     metric.
//   - Zeroed. Purging a card overwrites its arrays; so do the end of the conversation
//     (PurgeConversation), the TTL (default 15 minutes from submission, measured with the injected
//     clock) and the agent marking it done (Purge). After that neither side can see it again.
//   - Bounded. A Store holds at most MaxEntries cards (ErrFull beyond), each of a fixed size.
//   - Masked by default. View returns a Masked copy (brand, BIN and last four or last four only,
//     the cardholder's name); Reveal returns the full number, expiry and code for callers that
//     checked card.view_full, and writes them only through Reveal.WriteJSON.
//   - Checked at the door. ParseSubmission reads the form's JSON body into the Card's arrays
//     without intermediate strings and validates the number (IIN and length from
//     compliance/pan's table, Luhn except for UnionPay), the expiry (not past) and the code
//     length by brand, each failure naming its field.
//   - Optionally never seen. With a Tokenizer (HTTPSTokenizer posts to the payment or
//     tokenization endpoint over TLS 1.2+), the card is forwarded at submission and zeroed at
//     once; only the brand, the last four digits and the masked token reference stay.
//   - Reachable from another node only over an authenticated call. Peer signs a fetch request
//     with HMAC-SHA-256 under a per-tenant key (PeerKeys), refuses stale or replayed requests,
//     and seals the answer with AES-256-GCM under a key derived from the same secret, so card
//     data never crosses the network in clear even without TLS between nodes.
//
// The package knows nothing of HTTP servers, databases or chats: app/cardform ties it to
// conversations, the route table, the audit log and the key provider.
package secureform

// Package cardform is the secure card form over HTTP: an agent with chat.request_card asks the
// visitor of a conversation for card data; the visitor fills an isolated form on Parley's origin
// (strict CSP, no third-party script, autocomplete cc-* fields); the card data lives only in the
// memory of the node that received it (compliance/secureform), visible to the requesting agent
// masked, and in full only with card.view_full — each view audited without the data — until the
// agent marks it done, the conversation ends or its TTL passes.
//
// # Flow
//
//  1. POST /api/v1/chat/conversations/:conversation/card-forms (agent) stores a request (ids,
//     state and times only) and puts the system event card_form_requested
//     {"request_id","expires_at"} into the chat.
//  2. POST /api/v1/widget/sites/:site/chats/:conversation/card-forms/:request/open (the widget,
//     with the visitor's token) issues a single-use form token and answers the form's URL; the
//     token travels in the URL fragment, so it never reaches a server log.
//  3. GET /card-form/v1/form?site=…&c=…&r=… serves the form page; it submits
//     POST /api/v1/widget/sites/:site/chats/:conversation/card-forms/:request with
//     "Authorization: Bearer cf_…". A token of another conversation or request is 404, a form past
//     its time card_form_expired (410), a second submission card_form_used (409).
//  4. GET …/card-forms/:request shows the requesting agent the masked card (card.view audited);
//     GET …/card-forms/:request/full needs card.view_full (card.view_full audited); POST
//     …/card-forms/:request/done wipes it (card.purge audited).
//
// # Several nodes
//
// The request row records which process holds the card (holder_node) and the URL other nodes
// reach it at (holder_url, Options.NodeURL). An agent served by another node gets the card
// through POST /internal/v1/card-forms on the holder: a request signed with HMAC-SHA-256 under a
// per-tenant secret (from the key provider, wrapped in card_peer_keys, or Options.PeerSecret),
// answered sealed with AES-256-GCM (secureform.Peer). The row's status is the truth every node
// enforces: each node's sweeper wipes cards whose request was closed elsewhere or whose
// conversation ended, and cards past their TTL.
package cardform

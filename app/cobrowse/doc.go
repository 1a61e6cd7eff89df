// Package cobrowse is co-browsing beside the chat: the agent handling a conversation asks the
// visitor to share their page; with the visitor's explicit consent the widget loader on the
// host page records it (a snapshot, then mutations, scroll, viewport and pointer) and the
// server relays it, sanitised (app/cobrowse/dom), to the agent's workspace, where it is replayed
// in a sandboxed iframe without script. Control mode (clicks, scrolling, typing into fields
// that are not private) needs cobrowse.control and a second consent of the visitor.
//
// # What is never shared or kept
//
// Elements with data-parley-private or class parley-nosync, password fields and card fields
// never leave the page (the recorder sends a placeholder; the server checks again). Form values
// are masked unless the site allowlists the field. The server writes nothing of the page to
// disk, the database or the logs: frames pass through bounded in-memory queues only. The
// database holds each session's ids, state, holder node and times; the audit log its request,
// consents, start, mode changes and end with the reason.
//
// # Flow
//
//  1. POST /api/v1/chat/conversations/:conversation/cobrowse (cobrowse.view, the agent handling
//     the chat, the site has co-browsing on) stores the request and announces the system event
//     cobrowse_requested {"session_id"} in the chat (audited cobrowse.request).
//  2. The visitor's widget shows the request; Share opens the visitor socket
//     GET /api/v1/widget/sites/:site/cobrowse/ws whose hello names the session (audited
//     cobrowse.consent and cobrowse.start; announced cobrowse_started). Decline posts
//     …/chats/:conversation/cobrowse/:session/decline.
//  3. The agent's workspace opens GET /api/v1/chat/conversations/:conversation/cobrowse/:session/ws
//     and replays what arrives. docs/chat-protocol.md §8 lists the frames.
//  4. The session ends when the visitor stops or leaves the page, the agent ends it or is idle
//     for the site's limit (2 minutes unless set), the chat ends, or the agent cannot keep up.
//
// # Several nodes
//
// The node the visitor's socket reaches holds the session (holder_node, holder_url in
// cobrowse_sessions, as the secure card form does). An agent served by another node attaches
// through GET /internal/v1/cobrowse on the holder: a WebSocket upgrade authenticated by an
// HMAC-SHA-256 signature under the tenant's node-to-node secret (compliance/nodeauth, the card
// form's secret under co-browsing's own labels); every frame on that link is sealed with
// AES-256-GCM under a key bound to the attach request. The database never carries a frame.
package cobrowse

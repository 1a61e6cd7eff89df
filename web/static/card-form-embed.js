// The chat frame's side of the secure card form. When the chat announces card_form_requested
// ({"request_id","expires_at"}), the frame opens the form with the visitor's token and shows it
// in an iframe of its own origin; the form posts {type: "parley:card-form", status: "submitted"}
// to the frame when it has sent the card. The card never passes through the chat frame.

/**
 * openCardForm asks Parley for a single-use form token and shows the form in container.
 * base is the widget API base of the site (SiteConfig.endpoints.base). Resolves
 * {frame, expiresAt}; rejects with an Error carrying the API's code and status.
 */
export async function openCardForm({ base, conversationId, requestId, visitorToken, container, fetchFn = globalThis.fetch, doc = globalThis.document }) {
  const url = `${base}/chats/${encodeURIComponent(conversationId)}/card-forms/${encodeURIComponent(requestId)}/open`;
  const res = await fetchFn(url, {
    method: 'POST', headers: { Authorization: `Bearer ${visitorToken}` }, credentials: 'omit', cache: 'no-store',
  });
  let body = {};
  try { body = await res.json(); } catch { body = {}; }
  if (res.status !== 200 || typeof body.form_url !== 'string' || !body.form_url.startsWith('/card-form/')) {
    const err = new Error((body.error && body.error.message) || 'The card form could not be opened.');
    err.code = body.error && body.error.code;
    err.status = res.status;
    throw err;
  }
  const frame = doc.createElement('iframe');
  frame.title = 'Secure card form';
  frame.className = 'parley-card-form';
  frame.setAttribute('referrerpolicy', 'no-referrer');
  frame.setAttribute('allow', 'payment \'none\'');
  frame.src = body.form_url;
  container.replaceChildren(frame);
  return { frame, expiresAt: body.expires_at };
}

/** cardFormMessage returns the form's message when ev is one from origin, else null. */
export function cardFormMessage(ev, origin) {
  if (!ev || ev.origin !== origin || !ev.data || ev.data.type !== 'parley:card-form') return null;
  return { status: ev.data.status, requestId: ev.data.request };
}

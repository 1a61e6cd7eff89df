// Parley console chat workspace: the agent's live chats over the agent socket. It lists the queue
// (accept or refuse an offer), the conversations the agent follows, and the selected transcript with
// a composer, typing indicators, read receipts and an end button. Text is rendered as text only.
//
// Mounts itself on an element with data-chat-workspace; the console can also import
// mountWorkspace(root, opts) and AgentSocket to build on.

import { AgentSocket } from './console-chat-socket.js';

export { AgentSocket };

const TEXT = {
  queue: 'Queue', mine: 'My chats', none_queued: 'No visitors are waiting.', none_mine: 'No open chats.',
  accept: 'Accept', refuse: 'Refuse', end: 'End chat', send: 'Send', message: 'Message', visitor: 'Visitor',
  pick: 'Select a chat to see its messages.', typing: '{name} is typing…', read: 'Read', sending: 'Sending…',
  not_sent: 'Not sent', joined: '{name} joined.', left: '{name} left.', transferred: 'Transferred.', ended: 'The chat has ended.',
  missed: 'Missed: nobody accepted in time.', connecting: 'Connecting…', open: 'Connected as {name}.',
  reconnecting: 'Connection lost. Reconnecting…', unauthenticated: 'Your session has ended. Sign in again.',
  forbidden: 'You are not allowed to take chats.', closed: 'Disconnected.', bye: 'Disconnected.', client_error: 'Disconnected after a protocol error.',
  waiting_since: 'waiting since {time}', file: 'File: {name} ({kb} KB)', status_queued: 'queued', status_assigned: 'assigned',
  status_active: 'active', status_ended: 'ended', status_missed: 'missed', status_transferred: 'transferred',
  card_request: 'Request card details', card_requested: 'Secure card form sent to the visitor.',
  card_submitted: 'Card details received:', card_closed: 'Card details closed and wiped.', card_done: 'Done, wipe them',
  card_failed: 'The card details could not be loaded ({code}).',
};

// api calls Parley's JSON API with the session cookie and, on state changes, the CSRF token of
// the session. Resolves {status, data}.
async function api(method, path) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') {
    if (!api.csrf) {
      const r = await fetch('/api/v1/auth/session', { credentials: 'same-origin', cache: 'no-store' });
      api.csrf = r.ok ? (await r.json()).csrf_token : '';
    }
    headers['X-CSRF-Token'] = api.csrf;
  }
  const res = await fetch(path, { method, headers, credentials: 'same-origin', cache: 'no-store' });
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  return { status: res.status, data };
}

function t(key, vars) {
  let s = TEXT[key] || key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'hidden') el.hidden = true;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

function clock(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** mountWorkspace renders the workspace into root and returns {socket, select(id)}. */
export function mountWorkspace(root, opts = {}) {
  const socket = opts.socket || new AgentSocket(opts);
  let selected = '';
  let typingOn = false;
  let typingAt = 0;
  let idle = 0;

  const conn = h('p', { class: 'cw-conn', role: 'status', text: t('connecting') });
  const notice = h('p', { class: 'cw-notice', role: 'alert', hidden: true });
  const queueCount = h('span', { class: 'cw-count' });
  const queueList = h('ul', { class: 'cw-list cw-queue', 'aria-label': t('queue') });
  const chatList = h('ul', { class: 'cw-list cw-chats', 'aria-label': t('mine') });
  const side = h('aside', { class: 'cw-side' }, conn, notice,
    h('h2', { id: 'cw-queue-h' }, t('queue'), ' ', queueCount), queueList,
    h('h2', { id: 'cw-chats-h', text: t('mine') }), chatList);
  const title = h('h2', { class: 'cw-title', text: '' });
  const state = h('span', { class: 'cw-state' });
  const endButton = h('button', { type: 'button', class: 'cw-end', text: t('end'), hidden: true, on: { click: () => selected && socket.end(selected) } });
  const cardButton = h('button', { type: 'button', class: 'cw-card', text: t('card_request'), hidden: true, on: { click: () => requestCard(selected) } });
  const events = h('div', { class: 'cw-events' });
  const pendingBox = h('div', { class: 'cw-pending-box' });
  const log = h('div', { class: 'cw-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0' }, events, pendingBox);
  const typing = h('p', { class: 'cw-typing', 'aria-live': 'off' });
  const input = h('textarea', { id: 'cw-input', rows: 2, maxlength: 4000, on: { keydown: onKey, input: onInput } });
  const composer = h('form', { class: 'cw-composer', hidden: true, on: { submit: (e) => { e.preventDefault(); submit(); } } },
    h('label', { for: 'cw-input', class: 'cw-sr', text: t('message') }), input, h('button', { type: 'submit', text: t('send') }));
  const empty = h('p', { class: 'cw-empty', text: t('pick') });
  const head = h('header', { class: 'cw-head' }, title, state, cardButton, endButton);
  const main = h('section', { class: 'cw-main', 'aria-labelledby': 'cw-title' }, head, empty, log, typing, composer);
  title.id = 'cw-title';
  root.replaceChildren(h('div', { class: 'cw' }, side, main));

  function name(c) {
    return c.visitorName || t('visitor');
  }

  function renderQueue() {
    queueCount.textContent = socket.queue.size ? `(${socket.queue.size})` : '';
    const items = [...socket.queue.values()].map((o) => {
      const who = (o.visitor && o.visitor.name) || t('visitor');
      return h('li', { class: 'cw-offer', 'data-conversation': o.conversation_id },
        h('span', { class: 'cw-who', text: who }),
        h('span', { class: 'cw-meta', text: t('waiting_since', { time: clock(o.queued_at) }) }),
        h('span', { class: 'cw-actions' },
          h('button', { type: 'button', class: 'cw-accept', text: t('accept'), 'aria-label': `${t('accept')}: ${who}`, on: { click: () => { selected = o.conversation_id; socket.accept(o.conversation_id); } } }),
          h('button', { type: 'button', class: 'cw-refuse', text: t('refuse'), 'aria-label': `${t('refuse')}: ${who}`, on: { click: () => socket.refuse(o.conversation_id) } })));
    });
    queueList.replaceChildren(...(items.length ? items : [h('li', { class: 'cw-none', text: t('none_queued') })]));
  }

  function renderChats() {
    const items = [...socket.conversations.values()].map((c) => {
      const b = h('button', { type: 'button', class: 'cw-pick', 'aria-current': c.id === selected ? 'true' : null, on: { click: () => select(c.id) } },
        h('span', { class: 'cw-who', text: name(c) }),
        h('span', { class: 'cw-meta', text: t(`status_${c.status}`) }),
        c.unread && c.id !== selected ? h('span', { class: 'cw-unread', text: String(c.unread) }) : null);
      return h('li', { 'data-conversation': c.id }, b);
    });
    chatList.replaceChildren(...(items.length ? items : [h('li', { class: 'cw-none', text: t('none_mine') })]));
  }

  function eventNode(c, ev) {
    if (ev.kind === 'message') {
      const mine = ev.sender && ev.sender.kind === 'agent' && socket.agent && ev.sender.id === socket.agent.id;
      const who = ev.sender && ev.sender.kind === 'visitor' ? name(c) : (ev.sender && ev.sender.name) || '';
      return h('div', { class: `cw-msg ${mine ? 'cw-mine' : ev.sender && ev.sender.kind === 'visitor' ? 'cw-visitor' : 'cw-other'}`, 'data-seq': ev.seq },
        h('p', { class: 'cw-from', text: who }), h('p', { class: 'cw-text', text: ev.text || '' }),
        h('p', { class: 'cw-time' }, h('time', { datetime: ev.at, text: clock(ev.at) }),
          mine ? h('span', { class: 'cw-read', text: ` · ${t('read')}`, hidden: ev.seq > c.visitorRead }) : null));
    }
    if (ev.kind === 'file' && ev.file) {
      return h('p', { class: 'cw-sys', text: t('file', { name: ev.file.name, kb: Math.max(1, Math.round(ev.file.size / 1024)) }) });
    }
    if (ev.kind === 'system' && ev.event === 'card_form_submitted') return cardNode(c, ev.data && ev.data.request_id);
    if (ev.kind === 'system') {
      const n = (ev.sender && ev.sender.name) || '';
      const text = {
        joined: t('joined', { name: n }), left: t('left', { name: n }), transferred: t('transferred'), ended: t('ended'), missed: t('missed'),
        card_form_requested: t('card_requested'), card_form_closed: t('card_closed'),
      }[ev.event];
      return text ? h('p', { class: 'cw-sys', text }) : null;
    }
    return null;
  }

  // The log is appended to, never rebuilt while the same chat is shown, so the live region
  // announces only what is new.
  let shown = { id: '', count: 0 };
  const bySeq = new Map();

  function renderLog() {
    const c = socket.conversations.get(selected);
    empty.hidden = !!c;
    log.hidden = !c;
    head.hidden = !c;
    if (!c) {
      title.textContent = '';
      state.textContent = '';
      endButton.hidden = true;
      composer.hidden = true;
      typing.textContent = '';
      return;
    }
    title.textContent = name(c);
    state.textContent = t(`status_${c.status}`);
    const open = c.status === 'active' || c.status === 'assigned';
    endButton.hidden = !open;
    cardButton.hidden = !open;
    composer.hidden = !open;
    if (shown.id !== c.id) {
      shown = { id: c.id, count: 0 };
      bySeq.clear();
      events.replaceChildren();
    }
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    for (const ev of c.events.slice(shown.count)) {
      if (ev.kind === 'amend') {
        const el = bySeq.get(ev.target_seq);
        if (el) el.querySelector('.cw-text').textContent = ev.text || '';
        continue;
      }
      const n = eventNode(c, ev);
      if (!n) continue;
      bySeq.set(ev.seq, n);
      events.append(n);
    }
    shown.count = c.events.length;
    for (const [seq, el] of bySeq) {
      const st = el.querySelector('.cw-read');
      if (st) st.hidden = seq > c.visitorRead;
    }
    const pending = [];
    for (const m of c.outbox.values()) {
      pending.push(h('div', { class: 'cw-msg cw-mine cw-pending' }, h('p', { class: 'cw-text', text: m.text }), h('p', { class: 'cw-time', text: t('sending') })));
    }
    for (const m of c.failed.values()) {
      pending.push(h('div', { class: 'cw-msg cw-mine cw-failed' }, h('p', { class: 'cw-text', text: m.text }), h('p', { class: 'cw-time', text: `${t('not_sent')} (${m.code})` })));
    }
    pendingBox.replaceChildren(...pending);
    if (atBottom || pending.length) log.scrollTop = log.scrollHeight;
    typing.textContent = c.visitorTyping && open ? t('typing', { name: name(c) }) : '';
    markRead(c);
  }

  // The secure card form: the agent asks, the visitor fills a form on Parley's origin, the agent
  // sees the card masked (the full card needs card.view_full, in the console's card panel).
  async function requestCard(id) {
    if (!id) return;
    cardButton.disabled = true;
    const r = await api('POST', `/api/v1/chat/conversations/${encodeURIComponent(id)}/card-forms`);
    cardButton.disabled = false;
    if (r.status !== 201) showNotice((r.data && r.data.error && r.data.error.message) || t('card_failed', { code: r.status }));
  }

  function cardNode(c, requestId) {
    const line = h('p', { class: 'cw-sys cw-card-held' }, t('card_submitted'), ' ');
    if (!requestId) return line;
    const base = `/api/v1/chat/conversations/${encodeURIComponent(c.id)}/card-forms/${encodeURIComponent(requestId)}`;
    api('GET', base).then((r) => {
      const card = r.data && r.data.card;
      if (r.status !== 200 || !card) {
        line.append(t('card_failed', { code: (r.data && r.data.error && r.data.error.code) || r.status }));
        return;
      }
      line.append(h('span', { class: 'cw-card-masked', text: `${card.brand} ${card.number}` }), ' ',
        h('button', { type: 'button', class: 'cw-card-done', text: t('card_done'), on: { click: () => api('POST', `${base}/done`) } }));
    });
    return line;
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = false;
    setTimeout(() => { notice.hidden = true; }, 6000);
  }

  function markRead(c) {
    if (document.visibilityState === 'visible' && c.lastSeq > c.readSent) socket.read(c.id, c.lastSeq);
  }

  function select(id) {
    selected = id;
    renderChats();
    renderLog();
    if (!composer.hidden) input.focus();
  }

  function submit() {
    const text = input.value.trim();
    if (!text || !selected) return;
    socket.send(selected, text);
    input.value = '';
    stopTyping();
    log.scrollTop = log.scrollHeight;
  }

  function onKey(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  function onInput() {
    if (!selected) return;
    const now = Date.now();
    if (!typingOn || now - typingAt > 3000) {
      socket.typing(selected, true);
      typingOn = true;
      typingAt = now;
    }
    clearTimeout(idle);
    idle = setTimeout(stopTyping, 4000);
  }

  function stopTyping() {
    clearTimeout(idle);
    if (typingOn && selected) socket.typing(selected, false);
    typingOn = false;
  }

  socket.addEventListener('state', (e) => {
    const s = e.detail.state;
    conn.textContent = s === 'open' ? t('open', { name: (socket.agent && socket.agent.name) || '' }) : t(s);
    conn.dataset.state = s;
  });
  socket.addEventListener('queue', renderQueue);
  socket.addEventListener('conversation', (e) => {
    if (e.detail.assigned && (!selected || selected === e.detail.id)) {
      select(e.detail.id);
      return;
    }
    renderChats();
    if (e.detail.id === selected) renderLog();
  });
  socket.addEventListener('signal', (e) => { if (e.detail.id === selected) renderLog(); });
  socket.addEventListener('notice', (e) => showNotice(e.detail.message || e.detail.code));
  document.addEventListener('visibilitychange', () => {
    const c = socket.conversations.get(selected);
    if (c) markRead(c);
  });
  // The workspace's extension points: every frame the socket receives is dispatched on the root
  // as a parley:socket-frame event (the frame in detail), and a parley:send-frame event on the
  // root sends its detail as a frame (dropped while the socket is not open).
  socket.addEventListener('frame', (e) => root.dispatchEvent(new CustomEvent('parley:socket-frame', { detail: e.detail })));
  root.addEventListener('parley:send-frame', (e) => { if (e.detail && typeof e.detail.type === 'string') socket.frame(e.detail); });
  renderQueue();
  renderChats();
  renderLog();
  socket.start();
  return { socket, select };
}

const auto = document.querySelector('[data-chat-workspace]');
if (auto) mountWorkspace(auto, { url: auto.dataset.socket || undefined });

// Parley workspace team panel: chat with colleagues (agent-to-agent chat) and invite visitors who
// are on the sites (proactive invitations). It mounts on [data-team-panel] and talks to the agent
// socket only through the workspace root's DOM events: parley:socket-frame (every frame the
// socket receives, in detail) and parley:send-frame (a frame to send). History, colleagues and
// visitors come from the JSON API. Every text is rendered as text, never as markup.

const TEXT = {
  team: 'Team', colleagues: 'Colleagues', none_colleagues: 'No colleagues to chat with.',
  online: 'online', offline: 'offline', chat_with: 'Chat with {name}', message_to: 'Write to {name}',
  send: 'Send', close: 'Close', pick: 'Choose a colleague to chat with.', sending: 'Sending…', not_sent: 'Not sent: {message}',
  unread: '{n} unread', visitors: 'Visitors on the sites', none_visitors: 'No visitors right now.',
  invite: 'Invite', invite_note: 'Invitation note (optional)', invite_note_for: 'Invitation note for {name}',
  visitor: 'Visitor on {page}', invited: 'Invitation sent.', accepted: 'Accepted: the chat is in My chats.',
  declined: 'Declined.', expired: 'Expired without an answer.', error: 'Not sent: {message}', you: 'You',
};

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

async function getJSON(path) {
  try {
    const res = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
    let data = null;
    try { data = await res.json(); } catch { data = null; }
    return { status: res.status, data };
  } catch {
    return { status: 0, data: null };
  }
}

// letterKey is a fresh idempotency key of letters only (a key whose digits read as a card number
// is refused).
function letterKey() {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `t-${Array.from(bytes, (b) => letters[b % 26]).join('')}`;
}

function clock(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** mountTeam renders the team panel into panel, wired to the workspace root's socket events. */
export function mountTeam(panel, root) {
  const send = (frame) => root.dispatchEvent(new CustomEvent('parley:send-frame', { detail: frame }));
  const colleagues = new Map(); // user id → {id, name, status}
  const threads = new Map(); // colleague's user id → thread (threadOf)
  let open = ''; // the colleague whose thread is shown
  const invites = new Map(); // visitor id → status text

  const colleagueList = h('ul', { class: 'wt-list', 'aria-label': t('colleagues') });
  const threadTitle = h('h3', { class: 'wt-title', text: t('pick') });
  const log = h('ol', { class: 'wt-log', 'aria-live': 'polite', 'aria-label': t('team') });
  const input = h('textarea', { class: 'wt-input', rows: '2', maxlength: '4000', id: 'wt-input' });
  const label = h('label', { for: 'wt-input', class: 'wt-label', text: t('send') });
  const sendButton = h('button', { type: 'submit', class: 'wt-send', text: t('send') });
  const form = h('form', { class: 'wt-form', hidden: true, on: { submit: (e) => { e.preventDefault(); post(); } } }, label, input, sendButton);
  const thread = h('section', { class: 'wt-thread', 'aria-labelledby': 'wt-thread-title' }, threadTitle, log, form);
  threadTitle.id = 'wt-thread-title';
  const visitorList = h('ul', { class: 'wt-list', 'aria-label': t('visitors') });
  const visitorsBox = h('section', { class: 'wt-visitors', 'aria-labelledby': 'wt-visitors-title', hidden: true },
    h('h2', { id: 'wt-visitors-title', text: t('visitors') }), visitorList);
  const teamBox = h('section', { class: 'wt-team', 'aria-labelledby': 'wt-team-title', hidden: true },
    h('h2', { id: 'wt-team-title', text: t('team') }), h('div', { class: 'wt-grid' }, colleagueList, thread));
  panel.replaceChildren(teamBox, visitorsBox);

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      post();
    }
  });

  // A thread holds its messages by seq; top is the highest seq seen, cursor the highest below which
  // nothing is missing (the history's after=).
  function threadOf(peer) {
    let th = threads.get(peer);
    if (!th) {
      th = { id: '', top: 0, cursor: 0, bySeq: new Map(), unread: 0, pending: new Map(), loaded: false };
      threads.set(peer, th);
    }
    return th;
  }

  function renderColleagues() {
    if (!colleagues.size) {
      colleagueList.replaceChildren(h('li', { class: 'wt-none', text: t('none_colleagues') }));
      return;
    }
    colleagueList.replaceChildren(...[...colleagues.values()].map((c) => {
      const th = threads.get(c.id);
      const unread = th && th.unread ? h('span', { class: 'wt-unread', text: String(th.unread), 'aria-label': t('unread', { n: th.unread }) }) : null;
      return h('li', {},
        h('button', { type: 'button', class: 'wt-pick', 'aria-current': c.id === open ? 'true' : null, 'data-user': c.id, on: { click: () => openThread(c.id) } },
          h('span', { class: 'wt-who', text: t('chat_with', { name: c.name }) }),
          h('span', { class: `wt-status wt-${c.status}`, text: t(c.status) }), unread));
    }));
  }

  function renderThread() {
    const c = colleagues.get(open);
    if (!c) {
      threadTitle.textContent = t('pick');
      log.replaceChildren();
      form.hidden = true;
      return;
    }
    threadTitle.textContent = t('chat_with', { name: c.name });
    label.textContent = t('message_to', { name: c.name });
    form.hidden = false;
    const th = threadOf(open);
    const items = [...th.bySeq.values()].sort((a, b) => a.seq - b.seq).map((m) => {
      const mine = m.sender && m.sender.id !== open;
      return h('li', { class: `wt-msg ${mine ? 'wt-mine' : 'wt-theirs'}` },
        h('p', { class: 'wt-from', text: `${mine ? t('you') : (m.sender && m.sender.name) || c.name} · ${clock(m.at)}` }),
        h('p', { class: 'wt-text', text: m.text }));
    });
    for (const p of th.pending.values()) {
      items.push(h('li', { class: `wt-msg wt-mine wt-pending${p.error ? ' wt-failed' : ''}` },
        h('p', { class: 'wt-from', text: p.error ? t('not_sent', { message: p.error }) : t('sending') }),
        h('p', { class: 'wt-text', text: p.text })));
    }
    log.replaceChildren(...items);
    log.scrollTop = log.scrollHeight;
  }

  async function openThread(peer) {
    open = peer;
    const th = threadOf(peer);
    th.unread = 0;
    renderColleagues();
    renderThread();
    input.focus();
    if (!th.loaded) await loadHistory(peer);
  }

  // loadHistory reads a thread's messages after its cursor (a first load: its last 200). catchUp
  // marks reads after a gap or a reconnect, whose colleague's messages count as unread.
  async function loadHistory(peer, catchUp = false) {
    const th = threadOf(peer);
    let last = th.top;
    if (!th.id || !th.loaded) {
      const r = await getJSON('/api/v1/team/threads');
      const found = r.status === 200 && r.data ? r.data.threads.find((x) => x.peer.id === peer) : null;
      if (!found) { th.loaded = true; return; }
      th.id = found.id;
      last = Math.max(last, found.last_seq);
    }
    const after = th.loaded ? th.cursor : Math.max(0, last - 200);
    const r = await getJSON(`/api/v1/team/threads/${encodeURIComponent(th.id)}/messages?after=${after}`);
    if (r.status !== 200 || !r.data) return;
    th.loaded = true;
    for (const m of r.data.messages) {
      if (add(peer, m, false) && catchUp && m.sender && m.sender.id === peer && (peer !== open || document.visibilityState !== 'visible')) th.unread++;
    }
    th.cursor = Math.max(th.cursor, after, ...r.data.messages.map((m) => m.seq));
    renderColleagues();
    if (peer === open) renderThread();
  }

  // add keeps a message (once); it reports whether it was new.
  function add(peer, m, live) {
    const th = threadOf(peer);
    th.id = m.thread_id;
    if (m.key) th.pending.delete(m.key);
    if (th.bySeq.has(m.seq)) return false;
    th.bySeq.set(m.seq, m);
    if (live && th.loaded && m.seq > th.cursor + 1) loadHistory(peer, true); // missed while away
    else if (m.seq === th.cursor + 1) th.cursor = m.seq;
    th.top = Math.max(th.top, m.seq);
    if (live && m.sender && m.sender.id === peer && (peer !== open || document.visibilityState !== 'visible')) th.unread++;
    return true;
  }

  function post() {
    const text = input.value.trim();
    if (!text || !open) return;
    const th = threadOf(open);
    const key = letterKey();
    th.pending.set(key, { text, to: open });
    send(th.id ? { type: 'team_message', thread_id: th.id, key, text } : { type: 'team_message', to_user_id: open, key, text });
    input.value = '';
    renderThread();
  }

  function resend() {
    for (const [peer, th] of threads) {
      for (const [key, p] of th.pending) {
        if (p.error) continue;
        send(th.id ? { type: 'team_message', thread_id: th.id, key, text: p.text } : { type: 'team_message', to_user_id: peer, key, text: p.text });
      }
    }
  }

  async function loadColleagues() {
    const r = await getJSON('/api/v1/team/colleagues');
    if (r.status !== 200 || !r.data) return;
    teamBox.hidden = false;
    colleagues.clear();
    for (const c of r.data.colleagues) colleagues.set(c.id, c);
    renderColleagues();
    if (open) renderThread();
  }

  async function loadVisitors() {
    const r = await getJSON('/api/v1/visitors');
    if (r.status !== 200 || !r.data) return;
    visitorsBox.hidden = false;
    if (!r.data.visitors.length) {
      visitorList.replaceChildren(h('li', { class: 'wt-none', text: t('none_visitors') }));
      return;
    }
    // Keep a note being typed: rebuild only the rows whose visitor is new or gone.
    const rows = new Map([...visitorList.querySelectorAll('li[data-visitor]')].map((li) => [li.dataset.visitor, li]));
    const next = r.data.visitors.map((v) => rows.get(v.id) || visitorRow(v));
    for (const v of r.data.visitors) updateInvite(v.id);
    visitorList.replaceChildren(...next);
  }

  function visitorRow(v) {
    const page = v.current_title || v.current_url || '';
    const name = t('visitor', { page });
    const noteId = `wt-note-${v.id}`;
    const note = h('input', { type: 'text', id: noteId, class: 'wt-note', maxlength: '500', 'aria-label': t('invite_note_for', { name }) });
    const status = h('p', { class: 'wt-invite-status', role: 'status', 'data-invite-status': v.id });
    const button = h('button', { type: 'button', class: 'wt-invite', 'data-visitor': v.id, text: t('invite'), on: { click: () => {
      send({ type: 'invite', visitor_id: v.id, message: note.value.trim() });
      invites.set(v.id, t('invited'));
      updateInvite(v.id);
    } } });
    return h('li', { class: 'wt-visitor', 'data-visitor': v.id },
      h('p', { class: 'wt-who', text: name }),
      h('p', { class: 'wt-meta', text: [v.browser, v.language, v.referrer].filter(Boolean).join(' · ') }),
      h('div', { class: 'wt-actions' }, note, button), status);
  }

  function updateInvite(visitorID) {
    const el = visitorList.querySelector(`[data-invite-status="${CSS.escape(visitorID)}"]`);
    if (el) el.textContent = invites.get(visitorID) || '';
  }

  root.addEventListener('parley:socket-frame', (e) => {
    const f = e.detail;
    if (!f || typeof f.type !== 'string') return;
    switch (f.type) {
      case 'welcome':
        // After a reconnect: what the open threads missed comes from their history.
        for (const [peer, th] of threads) if (th.loaded && th.id) loadHistory(peer, true);
        resend();
        break;
      case 'team_event': {
        const peer = f.peer ? f.peer.id : '';
        if (!peer) return;
        if (!colleagues.has(peer)) colleagues.set(peer, { id: peer, name: f.peer.name || peer, status: 'online' });
        // A colleague who just wrote has their workspace open: online until the next list says otherwise.
        else if (f.sender && f.sender.id === peer) colleagues.get(peer).status = 'online';
        add(peer, f, true);
        renderColleagues();
        if (peer === open) renderThread();
        break;
      }
      case 'invite_result':
        invites.set(f.visitor_id, t(f.status === 'pending' ? 'invited' : f.status));
        updateInvite(f.visitor_id);
        break;
      case 'error':
        if (f.key) {
          for (const th of threads.values()) {
            const p = th.pending.get(f.key);
            if (p) p.error = f.message || f.code;
          }
          renderThread();
        }
        break;
      default:
        break;
    }
  });

  loadColleagues();
  loadVisitors();
  setInterval(loadColleagues, 15000);
  setInterval(loadVisitors, 10000);
  return { openThread };
}

const panel = document.querySelector('[data-team-panel]');
const root = document.querySelector('[data-chat-workspace]');
if (panel && root) mountTeam(panel, root);

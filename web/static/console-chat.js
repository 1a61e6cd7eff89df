// Parley console chat workspace: the agent's working day over the agent socket. The side column
// holds the agent's status, alerts, the queue with live wait times and, for supervisors, the live
// chats; the middle shows the agent's chats as tabs (unread counts, keyboard arrows) with the
// selected transcript, typing and read indicators, and the composer (canned messages with "/",
// files, the secure card form, transfer, end); the right column is the visitor panel. Text is
// rendered as text only.
//
// Mounts itself on an element with data-chat-workspace. That element dispatches
// `parley:socket-frame` (detail: the frame) for every frame the socket receives, and sends the
// frame of every `parley:send-frame` event (detail: the frame) dispatched on it or inside it.

import { AgentSocket } from './console-chat-socket.js';
import { h, fill, clock, duration, api } from './console-chat-dom.js';
import { Alerts } from './console-chat-alerts.js';
import { CannedPicker } from './console-chat-canned.js';
import { TransferDialog } from './console-chat-transfer.js';
import { VisitorPanel } from './console-chat-visitor.js';
import { LiveList } from './console-chat-live.js';

export { AgentSocket };

const TEXT = {
  queue: 'Queue', chats: 'Your chats', none_queued: 'No visitors are waiting.', none_mine: 'No open chats. Accepted chats open here as tabs.',
  accept: 'Accept', refuse: 'Refuse', end: 'End chat', send: 'Send', message: 'Message', visitor: 'Visitor',
  pick: 'Select a chat to see its messages.', typing: '{name} is typing…', read: 'Read', sending: 'Sending…',
  not_sent: 'Not sent', joined: '{name} joined.', joined_supervisor: '{name} (supervisor) joined.', left: '{name} left.',
  transferred: 'Transferred.', transferred_note: 'Transferred. Note for the agents: {note}', ended: 'The chat has ended.',
  missed: 'Missed: nobody accepted in time.', connecting: 'Connecting…', open: 'Connected as {name}.',
  reconnecting: 'Connection lost. Reconnecting…', unauthenticated: 'Your session has ended. Sign in again.',
  forbidden: 'You are not allowed to take chats.', closed: 'Disconnected.', bye: 'Disconnected.', client_error: 'Disconnected after a protocol error.',
  waiting: 'waiting {wait}', expires: 'offer ends in {secs} s', priority: 'priority {n}', transferred_to_you: 'transferred to you',
  file: 'File: {name} ({kb} KB)', download: 'Download {name}', status_queued: 'queued', status_assigned: 'offered',
  status_active: 'active', status_ended: 'ended', status_missed: 'missed', status_transferred: 'transferred', status_requeued: 'back in the queue',
  card_request: 'Request card details', card_requested: 'Secure card form sent to the visitor.',
  card_submitted: 'Card details received:', card_closed: 'Card details closed and wiped.', card_done: 'Done, wipe them',
  card_failed: 'The card details could not be loaded ({code}).', transfer: 'Transfer', close_tab: 'Close tab',
  attach: 'Send a file', uploading: 'Sending {name}…', upload_failed: 'The file was not sent: {why}',
  whisper_label: 'Whisper to the agent', whisper: 'Whisper', whisper_from: '{name} whispered (the visitor does not see this)',
  monitoring: 'Monitoring', joined_tab: 'Joined', stop_monitor: 'Stop monitoring', join: 'Join chat', leave: 'Leave chat',
  supervision_ended: 'You no longer follow this chat ({why}).', why_requested: 'stopped', why_left: 'you left', why_ended: 'it ended',
  why_forbidden: 'it moved to a department you do not supervise',
  status_label: 'Your status', online: 'Online', away: 'Away', status_now: 'You are {status}.', idle_away: 'You were set to away after a while without activity. Choose Online to take chats again.',
  alerts_on: 'Turn on sound and notifications', alerts_enabled: 'Sound and notifications on', alerts_sound: 'Sound on (notifications blocked by the browser)',
  new_offer: 'New chat waiting: {name}', new_message: 'New message from {name}', new_offer_title: 'Parley: a visitor is waiting',
  new_message_title: 'Parley: new message', tabs: 'Open chats', unread: '{n} unread',
  ban_done: 'The visitor is banned; the chat was ended.',
  offer_expired: 'You did not accept in time: the chat was offered to another agent.', taken: 'Another agent took this chat.',
  cobrowse: 'Co-browse', cobrowse_requested: 'Asked the visitor to share their page.', cobrowse_started: 'The visitor is sharing their page.',
  cobrowse_ended: 'Page sharing ended: {why}.', cobrowse_why_visitor_stopped: 'the visitor stopped it',
  cobrowse_why_visitor_left: 'the visitor left the page', cobrowse_why_declined: 'the visitor declined',
  cobrowse_why_agent_ended: 'ended by the agent', cobrowse_why_agent_idle: 'the agent was idle too long',
  cobrowse_why_agent_too_slow: 'the connection could not keep up', cobrowse_why_chat_ended: 'the chat ended',
  cobrowse_why_expired: 'the visitor did not answer in time', cobrowse_why_replaced: 'a new request replaced it',
  cobrowse_why_limit_exceeded: 'the page sent too much', cobrowse_why_shutdown: 'the server restarted',
};
const t = (key, vars) => fill(TEXT[key] || key, vars);

/** mountWorkspace renders the workspace into root and returns {socket, select(id)}. */
export function mountWorkspace(root, opts = {}) {
  const socket = opts.socket || new AgentSocket(opts);
  const data = root.dataset || {};
  const can = new Set((data.can || '').split(/\s+/).filter(Boolean));
  const frames = new Set((data.frames || '').split(/\s+/).filter(Boolean));
  const apis = new Set((data.apis || '').split(/\s+/).filter(Boolean));
  const self = data.user || '';
  const alerts = new Alerts();
  let selected = '';
  let typingOn = false;
  let typingAt = 0;
  let idle = 0;
  const tabsOrder = []; // conversation ids in tab order
  const closed = new Set(); // tabs the agent closed

  // --- side column: connection, status, alerts, queue, live chats ------------------------------
  const conn = h('p', { class: 'cw-conn', role: 'status', text: t('connecting') });
  const notice = h('p', { class: 'cw-notice', role: 'alert', hidden: true });
  const announcer = h('p', { class: 'cw-sr', 'aria-live': 'polite' });
  const statusSelect = h('select', { id: 'cw-status', on: { change: () => socket.setStatus(statusSelect.value) } },
    h('option', { value: 'online', text: t('online') }), h('option', { value: 'away', text: t('away') }));
  const statusRow = frames.has('status')
    ? h('p', { class: 'cw-status' }, h('label', { for: 'cw-status', text: t('status_label') }), statusSelect)
    : null;
  const alertsButton = h('button', { type: 'button', class: 'cw-quiet cw-alerts', text: t('alerts_on'), on: { click: enableAlerts } });
  const queueCount = h('span', { class: 'cw-count' });
  const queueList = h('ul', { class: 'cw-list cw-queue', 'aria-labelledby': 'cw-queue-h' });
  const live = can.has('monitor') ? new LiveList({
    canJoin: can.has('join'), self,
    following: (id) => { const c = socket.conversations.get(id); return c && c.mode && !c.ended ? c.mode : (c && !c.mode && isOpen(c) ? 'own' : ''); },
    monitor: (id) => { closed.delete(id); pendingSelect = id; socket.monitor(id); },
    join: (id) => { closed.delete(id); pendingSelect = id; socket.join(id); },
    open: (id) => select(id),
  }) : null;
  const side = h('div', { class: 'cw-side' }, conn, statusRow, alertsButton, notice, announcer,
    h('section', { 'aria-labelledby': 'cw-queue-h' }, h('h2', { id: 'cw-queue-h' }, t('queue'), ' ', queueCount), queueList),
    live ? live.el : null);

  // --- middle: tabs, transcript, composer ------------------------------------------------------
  const tabList = h('div', { class: 'cw-tabs', role: 'tablist', 'aria-label': t('tabs'), on: { keydown: onTabKey } });
  const noTabs = h('p', { class: 'cw-none cw-no-tabs', text: t('none_mine') });
  const title = h('h2', { class: 'cw-title', id: 'cw-title' });
  const state = h('span', { class: 'cw-state' });
  const button = (cls, label, fn) => h('button', { type: 'button', class: cls, text: t(label), hidden: true, on: { click: fn } });
  const transferButton = button('cw-quiet cw-transfer', 'transfer', () => selected && transfer.show(selected));
  const cardButton = button('cw-quiet cw-card', 'card_request', () => requestCard(selected));
  // Co-browsing lives in console-cobrowse.js: this button asks it to start, for the chat shown.
  const cobrowseButton = button('cw-quiet cw-cobrowse', 'cobrowse', () => selected &&
    root.dispatchEvent(new CustomEvent('parley:cobrowse', { detail: { conversation: selected, visitor: name(socket.conversations.get(selected)) }, bubbles: true })));
  const endButton = button('cw-quiet cw-end', 'end', () => selected && socket.end(selected));
  const joinButton = button('cw-quiet cw-join-chat', 'join', () => selected && socket.join(selected));
  const stopButton = button('cw-quiet cw-stop', 'stop_monitor', () => selected && socket.unmonitor(selected));
  const leaveButton = button('cw-quiet cw-leave', 'leave', () => selected && socket.leave(selected));
  const closeButton = button('cw-quiet cw-close', 'close_tab', () => closeTab(selected));
  const events = h('div', { class: 'cw-events' });
  const pendingBox = h('div', { class: 'cw-pending-box' });
  const log = h('div', { class: 'cw-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-labelledby': 'cw-title', tabindex: '0' }, events, pendingBox);
  const typing = h('p', { class: 'cw-typing', 'aria-live': 'off' });
  const input = h('textarea', { id: 'cw-input', rows: 2, maxlength: 4000, on: { keydown: onKey, input: onInput } });
  const inputLabel = h('label', { for: 'cw-input', class: 'cw-sr', text: t('message') });
  const sendButton = h('button', { type: 'submit', text: t('send') });
  const fileInput = h('input', { type: 'file', id: 'cw-file', class: 'cw-sr', on: { change: upload } });
  const fileLabel = h('label', { for: 'cw-file', class: 'cw-file-label', text: t('attach') });
  const canned = new CannedPicker({
    input, available: apis.has('canned'), conversation: () => selected,
    insert: (text) => { input.value = text; input.focus(); input.setSelectionRange(text.length, text.length); onInput(); },
  });
  const tools = h('div', { class: 'cw-tools' }, can.has('canned') ? canned.button : null, fileInput, fileLabel);
  const composer = h('form', { class: 'cw-composer', hidden: true, on: { submit: (e) => { e.preventDefault(); submit(); } } },
    can.has('canned') ? canned.box : null, tools, h('div', { class: 'cw-compose-row' }, inputLabel, input, sendButton));
  const empty = h('p', { class: 'cw-empty', text: t('pick') });
  const head = h('header', { class: 'cw-head', hidden: true }, title, state,
    h('span', { class: 'cw-head-actions' }, transferButton, cardButton, cobrowseButton, joinButton, stopButton, leaveButton, endButton, closeButton));
  const panel = h('div', { class: 'cw-panel', role: 'tabpanel', id: 'cw-panel', 'aria-labelledby': 'cw-title' }, head, empty, log, typing, composer);
  const main = h('section', { class: 'cw-main', 'aria-label': t('chats') }, tabList, noTabs, panel);

  // --- right: visitor panel ---------------------------------------------------------------------
  const visitorPanel = new VisitorPanel({
    canBan: can.has('ban'), onNotice: showNotice,
    onBanned: (id) => { if (can.has('end')) socket.end(id); showNotice(t('ban_done')); },
  });
  const transfer = new TransferDialog({
    available: apis.has('agents'), note: frames.has('transfer_note'), self,
    send: (id, target) => socket.transfer(id, target),
  });
  root.replaceChildren(h('div', { class: 'cw' }, side, main, visitorPanel.el), transfer.dialog);
  // The workspace's extension points: every frame the socket receives is dispatched on the root
  // as a parley:socket-frame event (the frame in detail), and a parley:send-frame event on the
  // root sends its detail as a frame (dropped while the socket is not open).
  root.addEventListener('parley:send-frame', (e) => { if (e.detail && typeof e.detail.type === 'string') socket.frame(e.detail); });
  socket.addEventListener('frame', (e) => root.dispatchEvent(new CustomEvent('parley:socket-frame', { detail: e.detail.frame, bubbles: true })));

  let pendingSelect = data.monitor || data.join || '';

  function name(c) {
    return c.visitorName || t('visitor');
  }

  function isOpen(c) {
    return c.status === 'active' || c.status === 'assigned';
  }

  // --- queue ------------------------------------------------------------------------------------
  function offerWait(o) {
    return (Date.now() - new Date(o.queued_at).getTime()) / 1000;
  }

  function renderQueue() {
    queueCount.textContent = socket.queue.size ? `(${socket.queue.size})` : '';
    const offers = [...socket.queue.values()].sort((a, b) => (b.priority || 0) - (a.priority || 0) || new Date(a.queued_at) - new Date(b.queued_at));
    const items = offers.map((o) => {
      const who = (o.visitor && o.visitor.name) || t('visitor');
      const meta = [h('span', { class: 'cw-meta cw-wait', 'data-queued': o.queued_at, text: t('waiting', { wait: duration(offerWait(o)) }) })];
      if (o.priority) meta.push(h('span', { class: 'cw-badge', text: t('priority', { n: o.priority }) }));
      if (o.transferred_to_me) meta.push(h('span', { class: 'cw-badge', text: t('transferred_to_you') }));
      if (o.expires_at) meta.push(h('span', { class: 'cw-meta cw-expires', 'data-expires': o.expires_at }));
      return h('li', { class: 'cw-offer', 'data-conversation': o.conversation_id },
        h('span', { class: 'cw-who', text: who }), ...meta,
        h('span', { class: 'cw-actions' },
          h('button', { type: 'button', class: 'cw-accept', text: t('accept'), 'aria-label': `${t('accept')}: ${who}`, on: { click: () => { pendingSelect = o.conversation_id; socket.accept(o.conversation_id); } } }),
          can.has('refuse') || !can.size ? h('button', { type: 'button', class: 'cw-quiet cw-refuse', text: t('refuse'), 'aria-label': `${t('refuse')}: ${who}`, on: { click: () => socket.refuse(o.conversation_id) } }) : null));
    });
    queueList.replaceChildren(...(items.length ? items : [h('li', { class: 'cw-none', text: t('none_queued') })]));
    tick();
  }

  // tick moves the queue's wait times and offer countdowns on, once a second.
  function tick() {
    for (const el of queueList.querySelectorAll('[data-queued]')) {
      el.textContent = t('waiting', { wait: duration((Date.now() - new Date(el.dataset.queued).getTime()) / 1000) });
    }
    for (const el of queueList.querySelectorAll('[data-expires]')) {
      el.textContent = t('expires', { secs: Math.max(0, Math.round((new Date(el.dataset.expires).getTime() - Date.now()) / 1000)) });
    }
    if (live) live.tick();
  }
  setInterval(tick, 1000);

  // --- tabs -------------------------------------------------------------------------------------
  function tabIds() {
    for (const id of socket.conversations.keys()) if (!tabsOrder.includes(id)) tabsOrder.push(id);
    return tabsOrder.filter((id) => socket.conversations.has(id) && !closed.has(id));
  }

  function renderTabs() {
    const ids = tabIds();
    let unreadTotal = 0;
    const tabs = ids.map((id) => {
      const c = socket.conversations.get(id);
      const unread = id === selected && document.visibilityState === 'visible' ? 0 : c.unread;
      unreadTotal += unread;
      const kind = c.mode === 'monitor' ? t('monitoring') : c.mode === 'join' ? t('joined_tab') : '';
      const done = !isOpen(c) || c.ended;
      return h('button', {
        type: 'button', role: 'tab', id: `cw-tab-${id}`, class: `cw-tab${done ? ' cw-tab-done' : ''}${c.mode ? ' cw-tab-super' : ''}`,
        'aria-selected': id === selected ? 'true' : 'false', 'aria-controls': 'cw-panel', tabindex: id === selected || (!selected && id === ids[0]) ? '0' : '-1',
        'data-conversation': id, on: { click: () => select(id) },
      }, kind ? h('span', { class: 'cw-tab-kind', text: kind }) : null,
      h('span', { class: 'cw-who', text: name(c) }),
      unread ? h('span', { class: 'cw-unread', 'aria-label': t('unread', { n: unread }), text: String(unread) }) : null);
    });
    tabList.replaceChildren(...tabs);
    tabList.hidden = !tabs.length;
    noTabs.hidden = !!tabs.length;
    panel.hidden = !tabs.length;
    document.title = `${unreadTotal ? `(${unreadTotal}) ` : ''}Workspace · Parley`;
    if (selected) panel.setAttribute('aria-labelledby', `cw-tab-${selected}`);
  }

  function onTabKey(e) {
    const ids = tabIds();
    const i = ids.indexOf(selected);
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % ids.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + ids.length) % ids.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = ids.length - 1;
    if (next < 0 || !ids.length) return;
    e.preventDefault();
    select(ids[next]);
    const tab = document.getElementById(`cw-tab-${ids[next]}`);
    if (tab) tab.focus();
  }

  function closeTab(id) {
    if (!id) return;
    closed.add(id);
    const ids = tabIds();
    select(ids[0] || '');
  }

  // --- transcript -------------------------------------------------------------------------------
  function eventNode(c, ev) {
    if (ev.kind === 'message' || ev.kind === 'whisper') {
      const mine = ev.sender && ev.sender.kind === 'agent' && socket.agent && ev.sender.id === socket.agent.id;
      const fromVisitor = ev.sender && ev.sender.kind === 'visitor';
      const who = fromVisitor ? name(c) : (ev.sender && ev.sender.name) || '';
      const whisper = ev.kind === 'whisper';
      const cls = `cw-msg ${mine ? 'cw-mine' : fromVisitor ? 'cw-visitor' : 'cw-other'}${whisper ? ' cw-whisper' : ''}`;
      return h('div', { class: cls, 'data-seq': ev.seq },
        h('p', { class: 'cw-from', text: whisper ? t('whisper_from', { name: who }) : who }), h('p', { class: 'cw-text', text: ev.text || '' }),
        h('p', { class: 'cw-time' }, h('time', { datetime: ev.at, text: clock(ev.at) }),
          mine && !whisper ? h('span', { class: 'cw-read', text: ` · ${t('read')}`, hidden: ev.seq > c.visitorRead }) : null));
    }
    if (ev.kind === 'file' && ev.file) {
      const label = t('file', { name: ev.file.name, kb: Math.max(1, Math.round(ev.file.size / 1024)) });
      const href = `/api/v1/chat/conversations/${encodeURIComponent(c.id)}/files/${encodeURIComponent(ev.file.id)}`;
      return h('p', { class: 'cw-sys cw-file' }, c.mode === 'monitor' ? label : h('a', { href, download: ev.file.name, 'aria-label': t('download', { name: ev.file.name }), text: label }));
    }
    if (ev.kind === 'system' && ev.event === 'card_form_submitted') return cardNode(c, ev.data && ev.data.request_id);
    if (ev.kind === 'system') {
      const n = (ev.sender && ev.sender.name) || '';
      const d = ev.data || {};
      const text = {
        joined: t(d.role === 'supervisor' ? 'joined_supervisor' : 'joined', { name: n }), left: t('left', { name: n }),
        transferred: d.note ? t('transferred_note', { note: d.note }) : t('transferred'), ended: t('ended'), missed: t('missed'),
        card_form_requested: t('card_requested'), card_form_closed: t('card_closed'),
        cobrowse_requested: t('cobrowse_requested'), cobrowse_started: t('cobrowse_started'),
        cobrowse_ended: t('cobrowse_ended', { why: t(`cobrowse_why_${d.reason}`) }),
      }[ev.event];
      return text ? h('p', { class: `cw-sys${d.note ? ' cw-note' : ''}`, text }) : null;
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
      composer.hidden = true;
      typing.textContent = '';
      for (const b of [transferButton, cardButton, cobrowseButton, endButton, joinButton, stopButton, leaveButton, closeButton]) b.hidden = true;
      visitorPanel.show('');
      return;
    }
    title.textContent = name(c);
    const supervising = c.mode && !c.ended;
    const open = isOpen(c) && !c.ended;
    const own = open && !c.mode;
    state.textContent = c.ended ? t('supervision_ended', { why: t(`why_${c.ended}`) }) : t(`status_${c.status}`);
    transferButton.hidden = !own || !can.has('transfer');
    cardButton.hidden = !own || !can.has('card');
    cobrowseButton.hidden = !own || !can.has('cobrowse');
    endButton.hidden = !own || (can.size > 0 && !can.has('end'));
    joinButton.hidden = !(supervising && c.mode === 'monitor' && open && can.has('join'));
    stopButton.hidden = !(supervising && c.mode === 'monitor');
    leaveButton.hidden = !(supervising && c.mode === 'join');
    closeButton.hidden = open;
    // The composer writes messages in one's own and joined chats, whispers in monitored ones.
    const whisper = supervising && c.mode === 'monitor';
    composer.hidden = !open || (whisper && !can.has('whisper'));
    composer.classList.toggle('cw-whispering', whisper);
    inputLabel.textContent = whisper ? t('whisper_label') : t('message');
    sendButton.textContent = whisper ? t('whisper') : t('send');
    tools.hidden = whisper;
    if (shown.id !== c.id) {
      shown = { id: c.id, count: 0 };
      bySeq.clear();
      events.replaceChildren();
      visitorPanel.show(c.id);
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
      pending.push(h('div', { class: `cw-msg cw-mine cw-pending${m.type === 'whisper' ? ' cw-whisper' : ''}` }, h('p', { class: 'cw-text', text: m.text }), h('p', { class: 'cw-time', text: t('sending') })));
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
    if (!requestId || c.mode) return line;
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

  async function upload() {
    const f = fileInput.files && fileInput.files[0];
    const id = selected;
    fileInput.value = '';
    if (!f || !id) return;
    showNotice(t('uploading', { name: f.name }), true);
    const r = await api('POST', `/api/v1/chat/conversations/${encodeURIComponent(id)}/files?name=${encodeURIComponent(f.name.slice(0, 200))}`, f);
    if (r.status === 201) notice.hidden = true;
    else showNotice(t('upload_failed', { why: (r.data && r.data.error && r.data.error.message) || r.status }));
  }

  let noticeTimer = 0;
  function showNotice(text, calm) {
    notice.textContent = text;
    notice.hidden = false;
    notice.classList.toggle('cw-calm', !!calm);
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { notice.hidden = true; }, 8000);
  }

  function announce(text) {
    announcer.textContent = '';
    setTimeout(() => { announcer.textContent = text; }, 50);
  }

  function markRead(c) {
    if (document.visibilityState === 'visible' && c.id === selected && c.lastSeq > c.readSent) socket.read(c.id, c.lastSeq);
  }

  function select(id) {
    if (id && selected !== id) stopTyping();
    selected = id;
    canned.close();
    renderTabs();
    renderLog();
    if (!composer.hidden && document.activeElement && !tabList.contains(document.activeElement)) input.focus();
  }

  function submit() {
    const text = input.value.trim();
    const c = socket.conversations.get(selected);
    if (!text || !c) return;
    if (c.mode === 'monitor' && !c.ended) socket.whisper(selected, text);
    else socket.send(selected, text);
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
    const c = socket.conversations.get(selected);
    if (!c || c.mode === 'monitor') return; // a supervisor's typing is never relayed while monitoring
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

  async function enableAlerts() {
    const r = await alerts.enable();
    alertsButton.textContent = r.notifications ? t('alerts_enabled') : t('alerts_sound');
    alertsButton.disabled = true;
  }

  // --- socket events ----------------------------------------------------------------------------
  socket.addEventListener('state', (e) => {
    const s = e.detail.state;
    conn.textContent = s === 'open' ? t('open', { name: (socket.agent && socket.agent.name) || '' }) : t(s);
    conn.dataset.state = s;
  });
  socket.addEventListener('welcome', () => {
    // A chat /live asked to supervise: monitor (or join) it once connected.
    if (data.monitor && !socket.conversations.has(data.monitor)) socket.monitor(data.monitor);
    if (data.join) socket.join(data.join);
    data.monitor = '';
    data.join = '';
  });
  socket.addEventListener('status', (e) => {
    const { status, reason } = e.detail;
    if (status === 'online' || status === 'away') statusSelect.value = status;
    conn.dataset.status = status;
    if (reason === 'idle') showNotice(t('idle_away'), true);
    else if (status) announce(t('status_now', { status: t(status) || status }));
  });
  socket.addEventListener('queue', (e) => {
    renderQueue();
    if (e.detail && e.detail.reason === 'expired') showNotice(t('offer_expired'), true);
    if (e.detail && e.detail.added) {
      const o = socket.queue.get(e.detail.id);
      const who = (o && o.visitor && o.visitor.name) || t('visitor');
      announce(t('new_offer', { name: who }));
      alerts.alert(t('new_offer_title'), t('new_offer', { name: who }), `offer-${e.detail.id}`, () => {});
    }
  });
  socket.addEventListener('event', (e) => {
    const { id, event: ev } = e.detail;
    const c = socket.conversations.get(id);
    if (!c || !ev || ev.seq <= c.readSent) return;
    const fromVisitor = ev.sender && ev.sender.kind === 'visitor' && (ev.kind === 'message' || ev.kind === 'file');
    if (!fromVisitor || c.mode === 'monitor') return;
    closed.delete(id);
    if (id !== selected || document.visibilityState !== 'visible') {
      if (id !== selected) announce(t('new_message', { name: name(c) }));
      alerts.alert(t('new_message_title'), t('new_message', { name: name(c) }), `chat-${id}`, () => select(id));
    }
  });
  socket.addEventListener('conversation', (e) => {
    const id = e.detail.id;
    if (e.detail.assigned || e.detail.supervising) {
      closed.delete(id);
      if (!selected || selected === id || pendingSelect === id) {
        pendingSelect = '';
        select(id);
        return;
      }
    }
    renderTabs();
    if (id === selected) renderLog();
  });
  socket.addEventListener('signal', (e) => { if (e.detail.id === selected) renderLog(); });
  socket.addEventListener('notice', (e) => {
    if (e.detail.code === 'conflict' && pendingSelect === e.detail.id) pendingSelect = '';
    showNotice(e.detail.code === 'conflict' ? t('taken') : e.detail.message || e.detail.code, e.detail.code === 'conflict');
  });
  document.addEventListener('visibilitychange', () => {
    const c = socket.conversations.get(selected);
    if (c) markRead(c);
    renderTabs();
  });
  renderQueue();
  renderTabs();
  renderLog();
  if (live) live.start();
  // The team panel (agent-to-agent chat, proactive invitations) is its own module, loaded for
  // users who hold one of its permissions; it talks to the socket through the two DOM events.
  if ((can.has('team') || can.has('invite')) && !document.querySelector('script[src$="/workspace-team.js"]')) {
    if (!document.querySelector('link[href$="/workspace-team.css"]')) document.head.append(h('link', { rel: 'stylesheet', href: '/static/workspace-team.css' }));
    import('./workspace-team.js').catch(() => {});
  }
  socket.start();
  return { socket, select };
}

const auto = document.querySelector('[data-chat-workspace]');
if (auto) mountWorkspace(auto, { url: auto.dataset.socket || undefined });

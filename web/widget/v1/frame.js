// Parley chat frame: the visitor's chat UI, served from Parley's origin inside the loader's iframe
// (or opened on its own). It loads the site's configuration, reports the host page's views, shows
// the pre-chat survey or the offline form, runs the conversation through VisitorChat and ends with
// the post-chat survey. Every text goes to the page as text, never as markup.

import { VisitorChat, wsURL } from './client.js';
import { texts } from './texts.js';
import { h, replace } from './dom.js';
import { prechatForm, offlineForm, surveyForm } from './forms.js';
import { ChatView } from './chatview.js';
import { CobrowseLink } from './cobrowse.js';

const query = new URLSearchParams(location.search);
const site = document.body.dataset.site || query.get('site') || '';
// The language the widget asks for: the embedding page's (the loader passes data-lang or the
// page's <html lang>), else the browser's. The server answers in the best of the site's
// languages (this one, then the browser's Accept-Language, else the site's default).
const lang = query.get('lang') || navigator.language || 'en';
const api = `/api/v1/widget/sites/${encodeURIComponent(site)}`;
const embedded = window.parent !== window;
const OPEN_STATES = new Set(['queued', 'assigned', 'active']);
const HEARTBEAT_MS = 60000;

const app = {
  config: null,
  t: texts(lang),
  store: memoryStore(),
  token: null,
  hostOrigin: null,
  hostOpen: !embedded,
  modal: false, // the open panel covers the host page: Tab stays in the chat
  ready: false,
  identity: null, // resolves once a page view has given us a visitor token
  identityDone: null,
  view: null, // the current ChatView, if any
  page: null, // the host page's last view, for heartbeats
  cobrowse: null, // the co-browsing session running, if any (cobrowse.js)
};
app.identity = new Promise((resolve) => { app.identityDone = resolve; });

// --- storage per cookie mode ----------------------------------------------------------------------

function memoryStore() {
  const m = new Map();
  return { get: (k) => m.get(k) ?? null, set: (k, v) => { m.set(k, v); }, remove: (k) => { m.delete(k); } };
}

// pickStorage keeps the visitor token where the site's cookie mode says: localStorage (persistent),
// sessionStorage (session) or memory only (none). Message text is never stored.
function pickStorage(mode) {
  let s = null;
  try {
    if (mode === 'persistent') s = window.localStorage;
    else if (mode === 'session') s = window.sessionStorage;
  } catch {
    s = null; // storage blocked: behave like "none"
  }
  if (!s) return memoryStore();
  const prefix = `parley:v1:${site}:`;
  const fallback = memoryStore();
  return {
    get: (k) => { try { return s.getItem(prefix + k); } catch { return fallback.get(k); } },
    set: (k, v) => { try { s.setItem(prefix + k, v); } catch { fallback.set(k, v); } },
    remove: (k) => { try { s.removeItem(prefix + k); } catch { fallback.remove(k); } },
  };
}

// --- HTTP -------------------------------------------------------------------------------------------

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (app.token) headers.Authorization = `Bearer ${app.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(api + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store',
    });
  } catch {
    return { status: 0, data: null, error: { code: 'network' } };
  }
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch { data = null; }
  }
  const error = (data && data.error) || (res.ok ? null : { code: 'error' });
  return { status: res.status, data, error };
}

function setToken(token) {
  app.token = token;
  if (token) app.store.set('token', token);
  else app.store.remove('token');
}

// reportPage posts a page view; the answer carries the visitor token to use from now on.
async function reportPage(page) {
  let r = await call('POST', '/pageviews', page);
  if (r.status === 401 && app.token) {
    setToken(null);
    r = await call('POST', '/pageviews', page);
  }
  if (r.status === 200 && r.data && r.data.visitor_token) {
    if (r.data.visitor_token !== app.token) setToken(r.data.visitor_token);
    app.identityDone();
  }
  return r;
}

function ownPage() {
  return { url: `${location.origin}${location.pathname}`, title: document.title, referrer: '', language: navigator.language || '', screen: `${screen.width}x${screen.height}` };
}

// ensureToken waits briefly for the host page's view to bring a token, then reports one itself.
async function ensureToken() {
  if (app.token) return;
  await Promise.race([app.identity, new Promise((r) => { setTimeout(r, 3000); })]);
  if (!app.token) await reportPage(ownPage());
}

// --- host page bridge -------------------------------------------------------------------------------

function toHost(msg) {
  if (!embedded || !app.hostOrigin) return;
  window.parent.postMessage({ parley: 1, ...msg }, app.hostOrigin);
}

function sendReady() {
  if (app.ready || !app.config || !app.hostOrigin) return;
  app.ready = true;
  const c = app.config;
  toHost({
    // The launcher label: the site's text in the chosen language, else its appearance setting,
    // else the built-in wording.
    type: 'ready', label: app.t.site('launcher_label') || (c.appearance && c.appearance.launcher_label) || app.t('launcher_label'), title: app.t('title'),
    color: c.appearance && c.appearance.color, position: c.appearance && c.appearance.position,
    strip: Array.isArray(c.sensitive_params) ? c.sensitive_params : [], open: app.store.get('open') === '1',
  });
}

window.addEventListener('message', (e) => {
  // The secure card form (our own origin, in an iframe of ours) says when it has been sent.
  const c = e.data;
  if (e.origin === location.origin && e.source !== window.parent && c && c.type === 'parley:card-form') {
    if (c.status === 'submitted' && app.view && typeof c.request === 'string') app.view.cardDone(c.request, 'card_sent');
    return;
  }
  if (!embedded || e.source !== window.parent) return;
  const d = e.data;
  if (!d || d.parley !== 1 || typeof d.type !== 'string') return;
  if (d.type === 'hello') {
    if (!app.hostOrigin) app.hostOrigin = e.origin;
    sendReady();
    return;
  }
  if (e.origin !== app.hostOrigin) return;
  if (d.type.startsWith('cobrowse-')) {
    if (app.cobrowse) app.cobrowse.fromHost(d);
    return;
  }
  if (d.type === 'pageview' && d.page && typeof d.page.url === 'string') {
    app.page = d.page;
    reportPage(d.page);
  }
  else if (d.type === 'open') setOpen(true, !!d.focus);
  else if (d.type === 'modal') app.modal = d.on === true;
  else if (d.type === 'close') setOpen(false, false);
});

function setOpen(open, focus) {
  app.hostOpen = open;
  app.store.set('open', open ? '1' : '0');
  if (open && app.view) app.view.seen();
  if (open && focus) focusView();
}

document.addEventListener('visibilitychange', () => { if (app.view) app.view.seen(); });

// While the page stays open and visible, a heartbeat keeps the visitor in the live visitor list.
setInterval(() => {
  if (app.page && document.visibilityState === 'visible') reportPage({ ...app.page, heartbeat: true });
}, HEARTBEAT_MS);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && embedded) {
    e.preventDefault();
    toHost({ type: 'close' });
  } else if (e.key === 'Tab' && app.modal) {
    holdFocus(e);
  }
});

// holdFocus keeps Tab and Shift+Tab inside the chat while its panel covers the host page (whose
// other elements the loader has made inert): from the last control to the first and back.
function holdFocus(e) {
  const all = [...document.querySelectorAll('a[href], button, input, select, textarea, iframe, [tabindex]')]
    .filter((el) => el.tabIndex >= 0 && !el.disabled && el.getClientRects().length > 0);
  if (!all.length) return;
  const at = document.activeElement;
  const away = !at || at === document.body;
  // Whether any control comes before (after) the focused element, which may itself be outside the
  // Tab order (a heading given the focus).
  const before = !away && all.some((el) => el !== at && (el.compareDocumentPosition(at) & Node.DOCUMENT_POSITION_FOLLOWING));
  const after = !away && all.some((el) => el !== at && (el.compareDocumentPosition(at) & Node.DOCUMENT_POSITION_PRECEDING));
  if (e.shiftKey && !before) {
    e.preventDefault();
    all[all.length - 1].focus();
  } else if (!e.shiftKey && !after) {
    e.preventDefault();
    all[0].focus();
  }
}

// --- layout -----------------------------------------------------------------------------------------

const root = document.getElementById('parley-chat');
const titleEl = h('h1', { class: 'title', text: '' });
const statusEl = h('p', { class: 'status', role: 'status' });
const endButton = h('button', { type: 'button', class: 'head-button', hidden: true });
const minButton = embedded
  ? h('button', { type: 'button', class: 'head-button icon', on: { click: () => toHost({ type: 'close' }) } },
    h('span', { 'aria-hidden': 'true', class: 'min-icon' }))
  : null;
const body = h('div', { class: 'body' });
replace(root, h('header', { class: 'head' }, h('div', { class: 'head-text' }, titleEl, statusEl), endButton, minButton), body);
let focusTarget = null;

function show(el, focus) {
  replace(body, el);
  focusTarget = focus || null;
  root.removeAttribute('aria-busy');
  if (app.hostOpen && embedded) focusView();
}

function focusView() {
  if (focusTarget) focusTarget();
}

function applyConfig() {
  const c = app.config;
  app.t = texts(c.language || lang, c.texts || {});
  document.documentElement.lang = c.language || lang;
  document.title = app.t('title');
  titleEl.textContent = app.t('title');
  endButton.textContent = app.t('end_chat');
  if (minButton) minButton.setAttribute('aria-label', app.t('minimise'));
  const color = c.appearance && c.appearance.color;
  if (/^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(color || '')) document.documentElement.style.setProperty('--accent', color);
}

// --- views ------------------------------------------------------------------------------------------

function message(text, cls = 'notice') {
  const p = h('p', { class: cls, tabindex: '-1', text });
  return { el: h('section', { class: 'view' }, p), focus: () => p.focus() };
}

function showUnavailable() {
  statusEl.textContent = '';
  const v = message(app.t('unavailable'));
  show(v.el, v.focus);
}

function showHome() {
  endButton.hidden = true;
  statusEl.textContent = '';
  app.view = null;
  if (!app.config.online) {
    showOffline();
    return;
  }
  const f = prechatForm(app.config, app.t, startChat);
  show(f.el, f.focus);
}

function showOffline() {
  const f = offlineForm(app.config, app.t, async (body) => {
    await ensureToken();
    const r = await call('POST', '/offline', body);
    if (r.status === 201) {
      const v = message(app.t('offline_sent'));
      show(v.el, v.focus);
      return null;
    }
    return errorOf(r);
  });
  show(f.el, f.focus);
}

function errorOf(r) {
  if (r.status === 403 && r.error.code === 'chat_unavailable') {
    showUnavailable();
    return null;
  }
  return { code: r.error.code, field: r.error.field, message: r.error.field ? r.error.message : '' };
}

async function startChat(prechat) {
  await ensureToken();
  let r = await call('POST', '/chats', prechat);
  if (r.status === 401) {
    setToken(null);
    await reportPage(ownPage());
    r = await call('POST', '/chats', prechat);
  }
  if ((r.status === 201 || r.status === 200) && r.data && r.data.conversation_id) {
    enterChat(r.data);
    return null;
  }
  if (r.status === 409 && r.error.code === 'chat_offline') {
    showOffline();
    return null;
  }
  return errorOf(r);
}

function enterChat(summary) {
  const view = new ChatView({
    t: app.t, lang: app.config.language || lang, config: app.config, store: app.store, summary,
    status: (s) => { statusEl.textContent = s; },
    visible: () => app.hostOpen && document.visibilityState === 'visible',
    unread: (n) => toHost({ type: 'unread', count: n, text: n === 1 ? app.t('launcher_unread_one') : app.t('launcher_unread_many', { n }) }),
    ended: (how) => finishChat(view, how),
    fatal: (reason) => onFatal(view, reason),
    download: (file) => download(view.id, file),
    cardForm: (id) => call('POST', `/chats/${encodeURIComponent(view.id)}/card-forms/${encodeURIComponent(id)}/open`),
    cobrowse: {
      share: (id) => shareScreen(view, id),
      decline: (id) => call('POST', `/chats/${encodeURIComponent(view.id)}/cobrowse/${encodeURIComponent(id)}/decline`),
      ended: (id) => { if (app.cobrowse && app.cobrowse.opts.sessionId === id) app.cobrowse.finish('ended'); },
    },
  });
  app.view = view;
  view.chat = new VisitorChat({
    base: app.config.endpoints.base, ws: wsURL(app.config.endpoints.ws, location.href), token: app.token,
    conversationId: summary.conversation_id, lastSeq: 0, listener: view,
  });
  endButton.hidden = false;
  endButton.onclick = () => view.confirmEnd();
  show(view.el, () => view.focus());
  view.chat.start();
}

// shareScreen starts co-browsing session id on the visitor's Share (docs/chat-protocol.md §7):
// only a page with the loader (embedded) can be shared.
function shareScreen(view, id) {
  if (!embedded || app.cobrowse) return;
  const t = app.t;
  app.cobrowse = new CobrowseLink({
    url: wsURL(`/api/v1/widget/sites/${encodeURIComponent(site)}/cobrowse/ws`, location.href), token: app.token,
    conversationId: view.id, sessionId: id, toHost,
    texts: { sharing: t('cobrowse_banner'), control: t('cobrowse_banner_control'), stop: t('cobrowse_stop'), take_back: t('cobrowse_take_back') },
    askControl: (answer) => {
      toHost({ type: 'open' });
      view.cobrowseAsk(view.agentName || t('agent'), answer);
    },
    ended: () => { app.cobrowse = null; view.cobrowseDone(id, 'cobrowse_ended'); },
  });
  app.cobrowse.start();
}

// download fetches a shared file with the visitor token and hands it to the browser as a download.
async function download(conversationId, file) {
  let res;
  try {
    res = await fetch(`${api}/chats/${encodeURIComponent(conversationId)}/files/${encodeURIComponent(file.id)}`, {
      headers: { Authorization: `Bearer ${app.token}` }, credentials: 'omit', cache: 'no-store',
    });
  } catch {
    return;
  }
  if (!res.ok) return;
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: file.name || 'file', hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

async function onFatal(view, reason) {
  if (app.view !== view) return;
  if (reason === 'unauthenticated') {
    setToken(null);
    const r = await reportPage(ownPage());
    if (r.status === 200 && app.view === view) view.chat.resume(app.token);
    else showUnavailable();
    return;
  }
  if (reason === 'chat_unavailable') {
    view.chat.stop();
    app.view = null;
    endButton.hidden = true;
    showUnavailable();
    return;
  }
  if (reason === 'not_found') {
    view.chat.stop();
    showHome();
    return;
  }
  if (reason === 'client_error') {
    view.chat.stop();
    view.problem(app.t('error_generic'));
  }
}

function finishChat(view, how) {
  endButton.hidden = true;
  if (how === 'missed') {
    view.after(h('div', { class: 'after' },
      h('p', { class: 'notice', text: app.t('missed') }),
      h('button', { type: 'button', class: 'primary', text: app.t('offline_title'), on: { click: () => { app.view = null; showOffline(); } } })));
    return;
  }
  const again = () => h('button', { type: 'button', class: 'secondary', text: app.t('new_chat'), on: { click: () => refreshConfig() } });
  if (!app.config.postchat || !app.config.postchat.enabled) {
    view.after(h('div', { class: 'after' }, h('p', { class: 'notice', text: app.t('ended') }), again()));
    return;
  }
  const thanks = () => view.after(h('div', { class: 'after' }, h('p', { class: 'notice', tabindex: '-1', text: app.t('survey_thanks') }), again()));
  const f = surveyForm(app.config, app.t, async (answer) => {
    const r = await call('POST', `/chats/${encodeURIComponent(view.id)}/survey`, answer);
    if (r.status === 204 || r.status === 200 || (r.status === 409 && r.error.code === 'survey_submitted')) {
      thanks();
      return null;
    }
    return errorOf(r);
  }, () => view.after(h('div', { class: 'after' }, again())));
  view.after(f.el);
}

async function refreshConfig() {
  const r = await call('GET', `/config?lang=${encodeURIComponent(lang)}`);
  if (r.status === 200 && r.data) {
    app.config = r.data;
    applyConfig();
  }
  showHome();
}

// --- proactive invitations ------------------------------------------------------------------------

// While no chat is open and the page is visible, the frame asks every few seconds whether an agent
// has invited the visitor (docs/chat-protocol.md §4.4). An invitation opens the panel with the
// agent's name and note and two buttons: accepting starts the chat already with that agent.
const INVITE_POLL_MS = 5000;
let invitation = null; // the id of the invitation on screen

async function pollInvitation() {
  if (!app.token || !app.config || app.view || invitation || document.visibilityState !== 'visible') return;
  const r = await call('GET', '/invitation');
  if (r.status === 200 && r.data && r.data.invitation && !app.view && !invitation) showInvitation(r.data.invitation);
}

function showInvitation(inv) {
  invitation = inv.id;
  const path = `/invitations/${encodeURIComponent(inv.id)}`;
  const heading = h('h2', { class: 'view-title', tabindex: '-1', text: app.t('invite_title', { name: inv.agent_name || app.t('agent') }) });
  const note = h('p', { class: 'intro invite-note', text: inv.message || app.t('greeting') });
  const problem = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const closed = () => {
    invitation = null;
    const v = message(app.t('invite_closed'));
    show(h('section', { class: 'view' }, v.el, h('button', { type: 'button', class: 'secondary', text: app.t('new_chat'), on: { click: () => showHome() } })), v.focus);
  };
  const accept = h('button', { type: 'button', class: 'primary', text: app.t('invite_accept'), on: { click: async () => {
    accept.disabled = true;
    decline.disabled = true;
    const r = await call('POST', `${path}/accept`);
    if (invitation !== inv.id) return;
    if (r.status === 201 && r.data && r.data.conversation_id) {
      invitation = null;
      enterChat(r.data);
      return;
    }
    if (r.status === 409 || r.status === 404) {
      closed();
      return;
    }
    if (errorOf(r) === null) return;
    problem.textContent = r.status === 429 ? app.t('error_rate_limited') : app.t('error_generic');
    problem.hidden = false;
    accept.disabled = false;
    decline.disabled = false;
  } } });
  const decline = h('button', { type: 'button', class: 'secondary', text: app.t('invite_decline'), on: { click: async () => {
    accept.disabled = true;
    decline.disabled = true;
    await call('POST', `${path}/decline`);
    invitation = null;
    showHome();
    toHost({ type: 'close' });
  } } });
  show(h('section', { class: 'view invite', 'aria-label': heading.textContent }, heading, note, problem, h('div', { class: 'actions' }, accept, decline)),
    () => heading.focus());
  toHost({ type: 'open' });
  // An invitation left unanswered closes when it expires (the server refuses it afterwards).
  const left = Date.parse(inv.expires_at) - Date.now();
  setTimeout(() => { if (invitation === inv.id) closed(); }, Number.isFinite(left) && left > 0 ? left : 120000);
}

setInterval(pollInvitation, INVITE_POLL_MS);

// --- start ------------------------------------------------------------------------------------------

async function boot() {
  const r = await call('GET', `/config?lang=${encodeURIComponent(lang)}`);
  if (r.status !== 200 || !r.data) {
    showUnavailable();
    return;
  }
  app.config = r.data;
  app.store = pickStorage(app.config.cookie_mode);
  app.token = app.store.get('token');
  applyConfig();
  sendReady();
  if (!embedded) await reportPage(ownPage());
  if (app.token) {
    const cur = await call('GET', '/chats/current');
    if (cur.status === 200 && cur.data && OPEN_STATES.has(cur.data.status)) {
      enterChat(cur.data);
      return;
    }
    if (cur.status === 401) setToken(null);
  }
  showHome();
}

root.setAttribute('aria-busy', 'true');
boot();

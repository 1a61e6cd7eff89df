// Parley workspace: co-browsing (docs/chat-protocol.md §8). The Co-browse button of a chat
// (console-chat.js dispatches parley:cobrowse) asks the visitor to share their page; once the
// visitor agrees (the system event cobrowse_started arrives as a parley:socket-frame), this
// panel opens the co-browsing socket and replays the page — already sanitised by Parley — in
// an iframe that is sandboxed without scripts and whose document Parley serves under a policy
// that runs none. The page is built with DOM calls only (never markup), no attribute named on*
// is ever set, and a transparent layer over the iframe takes every click, so nothing in the
// replayed page can be followed or run. View only by default; Request control asks the visitor,
// and only after their consent do the agent's clicks and typing reach their page. Any pointer
// or key use of the viewer counts as activity (the session ends after the site's idle limit).

import { h, api } from './console-chat-dom.js';

const TEXT = {
  title: 'Co-browsing: {name}', waiting: 'Waiting for the visitor to agree…', viewing: 'Viewing the visitor\'s page (view only).',
  controlling: 'In control: your clicks and typing reach the visitor\'s page.', asked: 'Asked the visitor for control…',
  request_control: 'Request control', view_only: 'View only', end: 'End co-browsing', close: 'Close',
  ended: 'Co-browsing ended: {why}.', failed: 'Co-browsing could not start: {why}', connecting: 'Connecting to the shared page…',
  why_visitor_stopped: 'the visitor stopped it', why_visitor_left: 'the visitor left the page', why_declined: 'the visitor declined',
  why_agent_ended: 'you ended it', why_agent_idle: 'you were idle too long', why_agent_too_slow: 'the connection could not keep up',
  why_chat_ended: 'the chat ended', why_expired: 'the visitor did not answer in time', why_replaced: 'a new request replaced it',
  why_limit_exceeded: 'the page sent too much', why_shutdown: 'the server restarted', why_lost: 'the connection was lost',
};
const t = (key, vars) => (TEXT[key] || key).replace(/\{(\w+)\}/g, (_, k) => (vars && k in vars ? String(vars[k]) : ''));
const SVG = 'http://www.w3.org/2000/svg';

/** Replay builds a shared page inside the viewer iframe's document and keeps it up to date. */
export class Replay {
  constructor(doc) {
    this.doc = doc;
    this.byId = new Map();
    this.ids = new WeakMap();
  }

  remember(id, node) {
    this.byId.set(id, node);
    this.ids.set(node, id);
    return node;
  }

  forget(node) {
    const id = this.ids.get(node);
    if (id) this.byId.delete(id);
    for (let c = node.firstChild; c; c = c.nextSibling) this.forget(c);
  }

  build(n, svg) {
    const doc = this.doc;
    if (!n || typeof n !== 'object') return null;
    if (n.k === 't') return this.remember(n.id, doc.createTextNode(String(n.v || '')));
    if (n.k === 'p') {
      const box = doc.createElement('div');
      box.className = 'parley-private-placeholder';
      box.setAttribute('title', 'Private: not shared');
      box.style.width = `${Number(n.w) || 0}px`;
      box.style.height = `${Number(n.h) || 0}px`;
      box.style.background = 'repeating-linear-gradient(45deg,#ccc 0 6px,#eee 6px 12px)';
      box.style.display = 'inline-block';
      return this.remember(n.id, box);
    }
    if (n.k !== 'e' || typeof n.tag !== 'string' || !/^[a-z][a-z0-9-]*$/.test(n.tag) || n.tag === 'script') return null;
    const inSvg = svg || n.tag === 'svg';
    const el = inSvg ? doc.createElementNS(SVG, n.tag) : doc.createElement(n.tag);
    for (const [k, v] of Object.entries(n.a || {})) this.attr(el, k, v);
    for (const c of n.c || []) {
      if (n.tag === 'style' && c.k !== 't') continue;
      const k = this.build(c, inSvg && n.tag !== 'foreignobject');
      if (k) el.appendChild(k);
    }
    return this.remember(n.id, el);
  }

  attr(el, k, v) {
    if (/^on/i.test(k) || k === 'srcdoc' || /^xlink/i.test(k)) return;
    try {
      if (v === null || v === undefined) el.removeAttribute(k);
      else el.setAttribute(k, String(v));
      if (k === 'value' && 'value' in el) el.value = v === null ? '' : String(v);
      if (k === 'checked' && 'checked' in el) el.checked = v !== null;
    } catch { /* a name the DOM refuses */ }
  }

  snapshot(f) {
    this.byId.clear();
    const root = this.build(f.root, false);
    if (!root) return;
    if (root.localName === 'html') this.doc.replaceChild(root, this.doc.documentElement);
    else this.doc.body.replaceChildren(root);
    this.scroll({ id: 0, x: f.x, y: f.y });
  }

  mutations(list) {
    for (const m of list || []) {
      const node = this.byId.get(m.id);
      switch (m.op) {
        case 'add': {
          const parent = this.byId.get(m.parent);
          if (!parent || parent.nodeType !== 1) break;
          // Text under a style element is CSS: only what Parley sanitised as CSS goes there.
          if (parent.localName === 'style' && m.tag !== 'style') break;
          const k = this.build(m.node, parent.namespaceURI === SVG);
          if (!k) break;
          const before = m.before ? this.byId.get(m.before) : null;
          parent.insertBefore(k, before && before.parentNode === parent ? before : null);
          break;
        }
        case 'remove':
          if (node) { this.forget(node); node.remove(); }
          break;
        case 'text':
          if (node && node.nodeType === 3) {
            const p = node.parentNode;
            if (p && p.localName === 'style' && m.tag !== 'style') break;
            node.data = String(m.v || '');
          }
          break;
        case 'value':
          if (node && 'value' in node) node.value = String(m.v || '');
          break;
        case 'attr':
          if (node && node.nodeType === 1 && node.localName === m.tag) this.attr(node, m.name, m.v === undefined ? null : m.v);
          break;
        default:
          break;
      }
    }
  }

  scroll(f) {
    const win = this.doc.defaultView;
    if (!f.id && win) win.scrollTo(Number(f.x) || 0, Number(f.y) || 0);
    else if (f.id) {
      const el = this.byId.get(f.id);
      if (el && el.nodeType === 1) { el.scrollLeft = Number(f.x) || 0; el.scrollTop = Number(f.y) || 0; }
    }
  }

  /** idAt returns the id of the element at (x, y) of the replayed page. */
  idAt(x, y) {
    let el = this.doc.elementFromPoint(x, y);
    while (el && !this.ids.get(el)) el = el.parentElement;
    return el ? this.ids.get(el) : 0;
  }
}

/** CobrowsePanel is the viewer of one session beside the chat. */
class CobrowsePanel {
  constructor(host, can) {
    this.host = host;
    this.canControl = can.has('cobrowse_control');
    this.session = null;
  }

  render() {
    const s = this.session;
    if (!s) { this.host.replaceChildren(); this.host.hidden = true; return; }
    this.host.hidden = false;
  }

  async request(conversation, visitor) {
    if (this.session && !this.session.ended) this.stop('agent_ended');
    const r = await api('POST', `/api/v1/chat/conversations/${encodeURIComponent(conversation)}/cobrowse`);
    if (r.status !== 201 || !r.data) {
      this.open({ conversation, visitor, id: '' });
      this.status(t('failed', { why: (r.data && r.data.error && r.data.error.message) || r.status }));
      this.session.ended = true;
      this.controls();
      return;
    }
    this.open({ conversation, visitor, id: r.data.id });
    this.status(t('waiting'));
  }

  open(s) {
    this.session = { ...s, mode: 'view', asked: false, control: false, ended: false, ws: null, replay: null, scale: 1, w: 1024, h: 768 };
    const title = h('h2', { class: 'cb-title', text: t('title', { name: s.visitor || '' }) });
    this.statusEl = h('p', { class: 'cb-status', role: 'status' });
    this.controlButton = h('button', { type: 'button', class: 'cb-control', text: t('request_control'), on: { click: () => this.send({ t: 'control_request' }) } });
    this.viewButton = h('button', { type: 'button', class: 'cw-quiet cb-view-only', text: t('view_only'), on: { click: () => this.send({ t: 'view_only' }) } });
    this.endButton = h('button', { type: 'button', class: 'cw-quiet cb-end', text: t('end'), on: { click: () => this.stop('agent_ended') } });
    this.closeButton = h('button', { type: 'button', class: 'cw-quiet cb-close', text: t('close'), on: { click: () => { this.session = null; this.render(); } } });
    this.frame = h('iframe', { class: 'cb-frame', title: t('title', { name: s.visitor || '' }), sandbox: 'allow-same-origin', referrerpolicy: 'no-referrer', tabindex: '-1' });
    this.pointer = h('span', { class: 'cb-pointer', hidden: true, 'aria-hidden': 'true' });
    this.layer = h('div', { class: 'cb-layer', tabindex: '0', role: 'application', 'aria-label': t('title', { name: s.visitor || '' }),
      on: { click: (e) => this.click(e), mousemove: () => this.activity(), wheel: (e) => this.wheel(e), keydown: (e) => this.key(e) } }, this.pointer);
    this.stage = h('div', { class: 'cb-stage' }, this.frame, this.layer);
    this.host.replaceChildren(h('section', { class: 'cb-panel', 'aria-labelledby': 'cb-title' }, title, this.statusEl,
      h('p', { class: 'cb-actions' }, this.controlButton, this.viewButton, this.endButton, this.closeButton), this.stage));
    title.id = 'cb-title';
    this.controls();
    this.render();
  }

  status(text) { if (this.statusEl) this.statusEl.textContent = text; }

  controls() {
    const s = this.session;
    if (!s) return;
    const live = !!s.ws && !s.ended;
    this.controlButton.hidden = !live || !s.control || s.mode === 'control';
    this.controlButton.disabled = s.asked;
    this.viewButton.hidden = !live || s.mode !== 'control';
    this.endButton.hidden = s.ended || !s.id;
    this.closeButton.hidden = !s.ended;
    this.stage.hidden = !live;
  }

  started(conversation, id) {
    const s = this.session;
    if (!s || s.id !== id || s.conversation !== conversation || s.ws || s.ended) return;
    this.status(t('connecting'));
    this.frame.addEventListener('load', () => this.connect(), { once: true });
    this.frame.src = `/chat/cobrowse/${encodeURIComponent(conversation)}/viewer`;
  }

  connect() {
    const s = this.session;
    if (!s || s.ended) return;
    s.replay = new Replay(this.frame.contentDocument);
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/chat/conversations/${encodeURIComponent(s.conversation)}/cobrowse/${encodeURIComponent(s.id)}/ws`);
    s.ws = ws;
    ws.addEventListener('message', (e) => this.frameIn(e.data));
    ws.addEventListener('close', () => { if (!s.ended) this.ended(s.reason || 'lost'); });
    this.controls();
  }

  frameIn(data) {
    const s = this.session;
    let f;
    try { f = JSON.parse(data); } catch { return; }
    if (!s || !f || typeof f.t !== 'string') return;
    switch (f.t) {
      case 'state':
        s.mode = f.mode === 'control' ? 'control' : 'view';
        s.asked = !!f.control_asked;
        s.control = this.canControl && !!f.control_allowed;
        this.status(s.mode === 'control' ? t('controlling') : s.asked ? t('asked') : t('viewing'));
        this.stage.classList.toggle('cb-in-control', s.mode === 'control');
        this.controls();
        break;
      case 'snapshot':
        s.w = Number(f.w) || 1024;
        s.h = Number(f.h) || 768;
        this.fit();
        s.replay.snapshot(f);
        break;
      case 'mutations': s.replay.mutations(f.m); break;
      case 'scroll': s.replay.scroll(f); break;
      case 'viewport': s.w = Number(f.w) || s.w; s.h = Number(f.h) || s.h; this.fit(); break;
      case 'pointer':
        this.pointer.hidden = false;
        this.pointer.style.left = `${(Number(f.x) || 0) * s.scale}px`;
        this.pointer.style.top = `${(Number(f.y) || 0) * s.scale}px`;
        break;
      case 'end':
        s.reason = String(f.reason || '');
        this.ended(s.reason);
        break;
      default: break;
    }
  }

  fit() {
    const s = this.session;
    const width = Math.max(320, this.host.clientWidth - 4);
    s.scale = Math.min(1, width / s.w);
    this.frame.style.width = `${s.w}px`;
    this.frame.style.height = `${s.h}px`;
    this.frame.style.transform = `scale(${s.scale})`;
    this.stage.style.width = `${s.w * s.scale}px`;
    this.stage.style.height = `${s.h * s.scale}px`;
  }

  send(v) {
    const s = this.session;
    if (s && s.ws && s.ws.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify(v));
  }

  activity() {
    const s = this.session;
    const now = Date.now();
    if (!s || now - (s.lastActivity || 0) < 5000) return;
    s.lastActivity = now;
    this.send({ t: 'activity' });
  }

  click(e) {
    const s = this.session;
    if (!s || !s.replay) return;
    this.layer.focus();
    s.lastActivity = Date.now();
    const r = this.layer.getBoundingClientRect();
    const id = s.replay.idAt((e.clientX - r.left) / s.scale, (e.clientY - r.top) / s.scale);
    s.focused = id;
    this.send(s.mode === 'control' && id ? { t: 'click', id } : { t: 'activity' });
  }

  wheel(e) {
    const s = this.session;
    if (!s || !s.replay) return;
    this.activity();
    if (s.mode !== 'control') return;
    e.preventDefault();
    const win = this.frame.contentWindow;
    this.send({ t: 'scroll', x: Math.max(0, Math.round(win.scrollX + e.deltaX)), y: Math.max(0, Math.round(win.scrollY + e.deltaY)) });
  }

  key(e) {
    const s = this.session;
    if (!s) return;
    this.activity();
    if (s.mode !== 'control' || !s.focused) return;
    const el = s.replay.byId.get(s.focused);
    if (!el || !('value' in el) || (el.localName !== 'input' && el.localName !== 'textarea')) return;
    let v = String(el.value || '');
    if (e.key === 'Backspace') v = v.slice(0, -1);
    else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey) v += e.key;
    else return;
    e.preventDefault();
    el.value = v;
    this.send({ t: 'input', id: s.focused, v });
  }

  stop(reason) {
    const s = this.session;
    if (!s || s.ended) return;
    if (s.ws) this.send({ t: 'end' });
    else if (s.id) api('POST', `/api/v1/chat/conversations/${encodeURIComponent(s.conversation)}/cobrowse/${encodeURIComponent(s.id)}/end`);
    this.ended(reason);
  }

  ended(reason) {
    const s = this.session;
    if (!s || s.ended) return;
    s.ended = true;
    s.reason = reason;
    if (s.ws) { try { s.ws.close(1000); } catch { /* gone */ } }
    // Nothing of the page stays on screen.
    if (s.replay) { s.replay.byId.clear(); }
    this.frame.removeAttribute('src');
    this.pointer.hidden = true;
    this.status(t('ended', { why: t(`why_${reason}`) }));
    this.controls();
  }

  systemEvent(f) {
    const s = this.session;
    const d = f.data || {};
    if (!s || f.conversation_id !== s.conversation || d.session_id !== s.id) return;
    if (f.event === 'cobrowse_started') this.started(f.conversation_id, d.session_id);
    else if (f.event === 'cobrowse_ended' && !s.ended) this.ended(d.reason || 'lost');
  }
}

const root = document.querySelector('[data-chat-workspace]');
const host = document.querySelector('[data-cobrowse-panel]');
if (root && host) {
  const can = new Set((root.dataset.can || '').split(/\s+/).filter(Boolean));
  const panel = new CobrowsePanel(host, can);
  host.hidden = true;
  root.addEventListener('parley:cobrowse', (e) => { if (can.has('cobrowse') && e.detail) panel.request(e.detail.conversation, e.detail.visitor); });
  root.addEventListener('parley:socket-frame', (e) => {
    const f = e.detail;
    if (f && f.type === 'event' && f.kind === 'system' && typeof f.event === 'string' && f.event.startsWith('cobrowse_')) panel.systemEvent(f);
  });
}

// Parley console chat workspace: small DOM and HTTP helpers shared by its modules. Text is always
// set as text (textContent), never parsed as markup.

/** h builds an element: props set attributes (class, text, on: {event: fn}, hidden), children append. */
export function h(tag, props = {}, ...children) {
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

/** fill replaces the words {name} in s with vars.name. */
export function fill(s, vars) {
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

/** clock writes a time as hours and minutes in the browser's locale. */
export function clock(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** duration writes seconds as "45 s", "3 min 05 s" or "2 h 05 min". */
export function duration(secs) {
  const s = Math.max(0, Math.floor(secs));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

let csrf = '';

/**
 * api calls Parley's JSON API with the session cookie and, on state changes, the session's CSRF
 * token. body is JSON (an object) or raw bytes (a Blob or File, sent as is). Resolves {status, data}.
 */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') {
    if (!csrf) {
      const r = await fetch('/api/v1/auth/session', { credentials: 'same-origin', cache: 'no-store' });
      csrf = r.ok ? (await r.json()).csrf_token : '';
    }
    headers['X-CSRF-Token'] = csrf;
  }
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers['Content-Type'] = body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  return { status: res.status, data };
}

/** errorText is the safe message of an API error answer, or fallback. */
export function errorText(r, fallback) {
  return (r.data && r.data.error && r.data.error.message) || fallback;
}

// Small DOM helpers for the chat frame. Strings always become text nodes: nothing here (or in the
// frame) ever assigns markup, so a message, a name or a site text cannot inject HTML.

let ids = 0;

/** uid returns a page-unique element id with prefix. */
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

/**
 * h creates an element. props: class, text, on ({event: handler}), hidden, and any other key as
 * an attribute (false/null/undefined values are skipped, true becomes an empty attribute).
 * children: nodes, strings (as text) or null.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'hidden') el.hidden = !!v;
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** replace empties parent and appends children. */
export function replace(parent, ...children) {
  parent.replaceChildren(...children.flat().filter(Boolean));
}

/**
 * field builds a labelled form control with an error slot wired through aria-describedby.
 * spec: {name, label, type ('text'|'email'|'textarea'|'select'|'checkbox'), required, maxLength,
 * options [{value, label}], autocomplete, hint, value}. Returns {wrap, input, error}.
 */
export function field(spec, t) {
  const id = uid(`f-${spec.name}`);
  const errId = `${id}-err`;
  const error = h('p', { class: 'field-error', id: errId, hidden: true });
  let input;
  const common = { id, name: spec.name, 'aria-describedby': errId, required: !!spec.required };
  if (spec.type === 'textarea') {
    input = h('textarea', { ...common, rows: spec.rows || 4, maxlength: spec.maxLength || null });
  } else if (spec.type === 'select') {
    input = h('select', common, (spec.options || []).map((o) => h('option', { value: o.value, text: o.label })));
  } else if (spec.type === 'checkbox') {
    input = h('input', { ...common, type: 'checkbox' });
  } else {
    input = h('input', {
      ...common, type: spec.type || 'text', maxlength: spec.maxLength || null,
      autocomplete: spec.autocomplete || 'off', inputmode: spec.type === 'email' ? 'email' : null,
    });
  }
  if (spec.value !== undefined) input.value = spec.value;
  // A flagged field is cleared of its error as soon as the visitor changes it.
  input.addEventListener(spec.type === 'checkbox' || spec.type === 'select' ? 'change' : 'input', () => {
    if (error.hidden) return;
    error.hidden = true;
    error.textContent = '';
    input.removeAttribute('aria-invalid');
  });
  const extra = spec.required ? null : h('span', { class: 'optional', text: ` ${t('optional')}` });
  let wrap;
  if (spec.type === 'checkbox') {
    wrap = h('div', { class: 'field field-check' }, input, h('label', { for: id }, spec.label, extra), error);
  } else {
    wrap = h('div', { class: 'field' }, h('label', { for: id }, spec.label, extra), input, error);
  }
  return { wrap, input, error };
}

/** setError shows message under a field (or clears it with ''). */
export function setError(f, message) {
  f.error.textContent = message;
  f.error.hidden = !message;
  if (message) f.input.setAttribute('aria-invalid', 'true');
  else f.input.removeAttribute('aria-invalid');
}

/** timeLabel formats at (ISO time) as a short local time in lang. */
export function timeLabel(at, lang) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return '';
  try {
    return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(d);
  } catch {
    return d.toISOString().slice(11, 16);
  }
}

/** validEmail is the browser-side plausibility check; the server decides. */
export function validEmail(s) {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s);
}

// Parley's secure card form. It validates as the visitor types (brand by IIN, length, Luhn,
// expiry, code length by brand — the rules the server applies again), then sends the card in one
// request to Parley's own origin. Nothing is kept in the browser: the single-use form token comes
// from the URL fragment, which is removed from the address at once, and the fields are cleared
// after sending.

// The brand table of compliance/pan (IINTable): prefix range, prefix length, card lengths, Luhn.
const BRANDS = [
  { brand: 'visa', name: 'Visa', low: 4, high: 4, digits: 1, lengths: [13, 16, 19], luhn: true },
  { brand: 'mastercard', name: 'Mastercard', low: 51, high: 55, digits: 2, lengths: [16], luhn: true },
  { brand: 'mastercard', name: 'Mastercard', low: 2221, high: 2720, digits: 4, lengths: [16], luhn: true },
  { brand: 'amex', name: 'American Express', low: 34, high: 34, digits: 2, lengths: [15], luhn: true },
  { brand: 'amex', name: 'American Express', low: 37, high: 37, digits: 2, lengths: [15], luhn: true },
  { brand: 'discover', name: 'Discover', low: 6011, high: 6011, digits: 4, lengths: [16, 19], luhn: true },
  { brand: 'discover', name: 'Discover', low: 644, high: 649, digits: 3, lengths: [16, 19], luhn: true },
  { brand: 'discover', name: 'Discover', low: 65, high: 65, digits: 2, lengths: [16, 19], luhn: true },
  { brand: 'jcb', name: 'JCB', low: 3528, high: 3589, digits: 4, lengths: [16, 17, 18, 19], luhn: true },
  { brand: 'diners', name: 'Diners Club', low: 300, high: 305, digits: 3, lengths: [14, 16, 19], luhn: true },
  { brand: 'diners', name: 'Diners Club', low: 36, high: 36, digits: 2, lengths: [14, 16, 19], luhn: true },
  { brand: 'diners', name: 'Diners Club', low: 38, high: 39, digits: 2, lengths: [14, 16, 19], luhn: true },
  { brand: 'unionpay', name: 'UnionPay', low: 62, high: 62, digits: 2, lengths: [16, 17, 18, 19], luhn: false },
];

export const MESSAGES = {
  number: 'Enter the card number.',
  numberChars: 'Use digits only.',
  numberShort: 'Enter the full card number.',
  numberInvalid: 'This card number is not valid; check it and try again.',
  expiry: 'Enter the expiry date as MM/YY.',
  expired: 'This card has expired or the date is not valid.',
  cvc: 'The security code has 3 or 4 digits.',
  cvc3: 'The security code of this card has 3 digits.',
  cvc4: 'The security code of this card has 4 digits.',
  name: 'Enter the name on the card.',
  nameDigits: 'The name on the card has no digits.',
};

/** digitsOf returns the digits of a card number typed with spaces or hyphens, or null. */
export function digitsOf(s) {
  const d = s.replace(/[ -]/g, '');
  return /^[0-9]*$/.test(d) ? d : null;
}

/** luhn reports whether a string of digits passes the Luhn check. */
export function luhn(d) {
  let sum = 0;
  let double = false;
  for (let i = d.length - 1; i >= 0; i--) {
    let v = d.charCodeAt(i) - 48;
    if (double) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    double = !double;
  }
  return d.length > 0 && sum % 10 === 0;
}

/** brandOf returns the brand row whose prefix d starts with (whatever its length), or null. */
export function brandOf(d) {
  for (const row of BRANDS) {
    if (d.length < row.digits) continue;
    const p = Number(d.slice(0, row.digits));
    if (p >= row.low && p <= row.high) return row;
  }
  return null;
}

/** cvcLength is 4 for American Express, 3 for every other brand. */
export function cvcLength(brand) {
  return brand === 'amex' ? 4 : 3;
}

/** parseExpiry reads MM/YY, MM/YYYY, MM-YY, MMYY or MMYYYY (spaces ignored). */
export function parseExpiry(s) {
  const t = s.replace(/ /g, '');
  let m = /^([0-9]{1,2})[/-]([0-9]{2}|[0-9]{4})$/.exec(t);
  if (!m) {
    const n = /^([0-9]{2})([0-9]{2}|[0-9]{4})$/.exec(t);
    if (!n) return null;
    m = n;
  }
  const month = Number(m[1]);
  let year = Number(m[2]);
  if (m[2].length === 2) year += 2000;
  if (month < 1 || month > 12 || year < 2000 || year > 2099) return null;
  return { month, year };
}

/** expiryValid: not past (the card is valid to the end of its month) and at most 20 years on. */
export function expiryValid({ month, year }, now) {
  const exp = year * 12 + month - 1;
  const cur = now.getUTCFullYear() * 12 + now.getUTCMonth();
  return exp >= cur && exp <= cur + 20 * 12;
}

/** validate returns {field: message} for every invalid field of {number, expiry, cvc, name}. */
export function validate(f, now) {
  const errors = {};
  const d = digitsOf(f.number);
  let row = null;
  if (f.number.trim() === '') errors.number = MESSAGES.number;
  else if (d === null) errors.number = MESSAGES.numberChars;
  else if (d.length < 13) errors.number = MESSAGES.numberShort;
  else {
    row = BRANDS.find((r) => r.lengths.includes(d.length) && d.length >= r.digits &&
      Number(d.slice(0, r.digits)) >= r.low && Number(d.slice(0, r.digits)) <= r.high) || null;
    if (!row || (row.luhn && !luhn(d))) errors.number = MESSAGES.numberInvalid;
  }
  const exp = parseExpiry(f.expiry);
  if (f.expiry.trim() === '' || !exp) errors.expiry = MESSAGES.expiry;
  else if (!expiryValid(exp, now)) errors.expiry = MESSAGES.expired;
  if (!/^[0-9]{3,4}$/.test(f.cvc)) errors.cvc = MESSAGES.cvc;
  else if (row && f.cvc.length !== cvcLength(row.brand)) errors.cvc = row.brand === 'amex' ? MESSAGES.cvc4 : MESSAGES.cvc3;
  const name = f.name.trim();
  if (name === '') errors.name = MESSAGES.name;
  else if (/\p{N}/u.test(name)) errors.name = MESSAGES.nameDigits;
  return errors;
}

/** group formats digits in blocks of four (American Express 4-6-5) for display. */
export function group(d) {
  const row = brandOf(d);
  if (row && row.brand === 'amex') return [d.slice(0, 4), d.slice(4, 10), d.slice(10, 15)].filter(Boolean).join(' ');
  return d.replace(/(.{4})/g, '$1 ').trim();
}

const FIELDS = { name: 'cc-name', number: 'cc-number', expiry: 'cc-exp', cvc: 'cc-csc' };

function start(doc, win) {
  const form = doc.getElementById('card-form');
  const status = doc.getElementById('cf-status');
  const params = new URLSearchParams(win.location.search);
  const site = params.get('site') || '';
  const conv = params.get('c') || '';
  const req = params.get('r') || '';
  const token = win.location.hash.slice(1);
  // The token leaves the address bar (and the history) at once.
  win.history.replaceState(null, '', win.location.pathname + win.location.search);
  const say = (text, ok) => {
    status.textContent = text;
    status.className = 'cf-status ' + (ok ? 'ok' : 'bad');
    status.hidden = false;
  };
  if (!/^cf_[A-Za-z0-9_-]{43}$/.test(token) || !site || !conv || !req) {
    say('This form link is not valid. Ask the agent for a new one.', false);
    return;
  }
  form.hidden = false;
  const input = (k) => doc.getElementById(FIELDS[k]);
  const values = () => ({ number: input('number').value, expiry: input('expiry').value, cvc: input('cvc').value, name: input('name').value });
  const show = (errors, only) => {
    for (const k of Object.keys(FIELDS)) {
      if (only && k !== only) continue;
      const el = input(k);
      const msg = errors[k] || '';
      doc.getElementById(FIELDS[k] + '-error').textContent = msg;
      if (msg) el.setAttribute('aria-invalid', 'true');
      else el.removeAttribute('aria-invalid');
    }
  };
  const touched = new Set();
  for (const k of Object.keys(FIELDS)) {
    const el = input(k);
    el.addEventListener('blur', () => {
      touched.add(k);
      if (k === 'number') {
        const d = digitsOf(el.value);
        if (d) el.value = group(d);
      }
      show(validate(values(), new Date()), k);
    });
    el.addEventListener('input', () => {
      if (k === 'number') {
        const d = digitsOf(el.value);
        const row = d ? brandOf(d) : null;
        doc.getElementById('cc-brand').textContent = row ? row.name : '';
      }
      if (touched.has(k)) show(validate(values(), new Date()), k);
    });
  }
  const clear = () => {
    for (const k of Object.keys(FIELDS)) input(k).value = '';
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = values();
    const errors = validate(v, new Date());
    show(errors);
    if (Object.keys(errors).length > 0) {
      input(Object.keys(FIELDS).find((k) => errors[k])).focus();
      return;
    }
    const button = doc.getElementById('cf-submit');
    button.disabled = true;
    doc.getElementById('cf-form-error').textContent = '';
    let res;
    try {
      res = await win.fetch(`/api/v1/widget/sites/${encodeURIComponent(site)}/chats/${encodeURIComponent(conv)}/card-forms/${encodeURIComponent(req)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
        body: JSON.stringify({ number: v.number, expiry: v.expiry, cvc: v.cvc, name: v.name }),
        credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer',
      });
    } catch {
      button.disabled = false;
      doc.getElementById('cf-form-error').textContent = 'The form could not be sent; check your connection and try again.';
      return;
    }
    let body = {};
    try { body = await res.json(); } catch { body = {}; }
    if (res.status === 201) {
      clear();
      form.hidden = true;
      const brand = BRANDS.find((r) => r.brand === body.brand);
      say(`Sent securely: ${brand ? brand.name : 'card'} ending ${body.last4}. You can close this form.`, true);
      if (win.parent !== win) win.parent.postMessage({ type: 'parley:card-form', status: 'submitted', request: req }, win.location.origin);
      return;
    }
    button.disabled = false;
    const code = body.error && body.error.code;
    if (code === 'invalid_card' && body.error.field && FIELDS[body.error.field]) {
      show({ [body.error.field]: body.error.message }, body.error.field);
      return;
    }
    clear();
    form.hidden = true;
    if (code === 'card_form_expired') say('This form has expired. Ask the agent for a new one.', false);
    else if (code === 'card_form_used') say('This form was already sent.', false);
    else if (code === 'conversation_ended') say('This chat has ended.', false);
    else if (res.status === 404) say('This form link is not valid. Ask the agent for a new one.', false);
    else {
      form.hidden = false;
      doc.getElementById('cf-form-error').textContent = (body.error && body.error.message) || 'The form could not be sent; try again.';
    }
  });
}

if (typeof document !== 'undefined' && document.getElementById('card-form')) start(document, window);

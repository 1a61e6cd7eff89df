/*! Parley widget loader v1. Embed with:
 *  <script src="https://PARLEY_HOST/widget/v1/widget.js" data-site="SITE_KEY" async
 *          integrity="sha384-…" crossorigin="anonymous"></script>
 * Optional attributes: data-lang="de" (widget language), data-strip-params="ref,promo" (further
 * query parameters that never leave this page).
 * The chat itself runs in an iframe on Parley's origin: this page cannot read it. */
(function () {
  'use strict';

  // The stylesheet this loader injects, pinned by Subresource Integrity: pinning the loader pins
  // its styles too. web/widget_test.go checks the value against the file.
  var CSS_INTEGRITY = 'sha384-9/rH+uE0ysuEn6dh4CAaLfrFg2t+oqUWflx3LJxdRx32yoa0yHYnbD6HiGafDoFz';
  // Query parameters that are never reported, whatever the site's configuration says.
  var ALWAYS_STRIP = ['token', 'access_token', 'id_token', 'refresh_token', 'code', 'state', 'session', 'sessionid',
    'sid', 'password', 'passwd', 'pwd', 'secret', 'api_key', 'apikey', 'auth', 'signature', 'sig', 'card',
    'cardnumber', 'card_number', 'pan', 'cvv', 'cvc', 'ssn', 'email'];

  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll('script[data-site]');
    for (var i = 0; i < all.length; i++) {
      if (/\/widget(\/v1\/widget)?\.js(\?|$)/.test(all[i].src)) script = all[i];
    }
  }
  if (!script) return;
  var site = script.getAttribute('data-site') || '';
  if (!/^site_[A-Za-z0-9_-]{1,100}$/.test(site)) return;
  var marker = 'parley-widget-' + site;
  if (document.getElementById(marker)) return; // the snippet was pasted twice
  var origin = new URL(script.src, location.href).origin;
  var lang = script.getAttribute('data-lang') || document.documentElement.lang || navigator.language || 'en';
  var strip = ALWAYS_STRIP.concat(words(script.getAttribute('data-strip-params')));

  function words(s) {
    return String(s || '').toLowerCase().split(/[\s,]+/).filter(Boolean);
  }

  function el(tag, cls, attrs) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    return e;
  }

  // clean returns u without user info, fragment, sensitive query parameters and parameters whose
  // value looks like a card number; anything that is not an http(s) URL becomes ''.
  function clean(raw) {
    if (!raw) return '';
    var u;
    try { u = new URL(raw); } catch (e) { return ''; }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return '';
    u.username = '';
    u.password = '';
    u.hash = '';
    var drop = [];
    u.searchParams.forEach(function (v, k) {
      var digits = v.replace(/[\s.-]/g, '');
      if (strip.indexOf(k.toLowerCase()) >= 0 || (/^\d{13,19}$/.test(digits))) drop.push(k);
    });
    for (var i = 0; i < drop.length; i++) u.searchParams.delete(drop[i]);
    return u.toString();
  }

  // onAccent picks black or white text for the site's colour (WCAG relative luminance).
  function onAccent(hex) {
    var h = hex.length === 4 ? hex.replace(/([0-9a-f])/gi, '$1$1').slice(1) : hex.slice(1, 7);
    var lum = [0, 2, 4].map(function (i) {
      var c = parseInt(h.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var l = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return l > 0.179 ? '#111111' : '#ffffff';
  }

  var host = el('div', '', { id: marker });
  var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
  var css = el('link', '', { rel: 'stylesheet', href: origin + '/widget/v1/widget.css', integrity: CSS_INTEGRITY, crossorigin: 'anonymous' });
  var box = el('div', 'pw pw-right');
  var launcher = el('button', 'pw-launcher', { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'pw-panel' });
  launcher.hidden = true;
  var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'pw-icon');
  var path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z');
  svg.appendChild(path);
  var label = el('span', 'pw-label');
  label.textContent = 'Chat';
  var badge = el('span', 'pw-badge', { 'aria-hidden': 'true' });
  badge.hidden = true;
  launcher.appendChild(svg);
  launcher.appendChild(label);
  launcher.appendChild(badge);
  var live = el('span', 'pw-sr', { 'aria-live': 'polite' });
  var panel = el('div', 'pw-panel', { id: 'pw-panel', role: 'dialog', 'aria-label': 'Chat' });
  panel.hidden = true;
  var frame = el('iframe', 'pw-frame', {
    title: 'Chat',
    src: origin + '/widget/v1/frame?site=' + encodeURIComponent(site) + '&lang=' + encodeURIComponent(lang),
    referrerpolicy: 'no-referrer',
  });
  panel.appendChild(frame);
  box.appendChild(launcher);
  box.appendChild(panel);
  box.appendChild(live);
  root.appendChild(css);
  root.appendChild(box);

  // Where widget.css lets the open panel cover the whole page (a phone's width), the panel is a
  // modal dialog: the rest of the page is made inert, so neither Tab nor a screen reader reaches
  // what lies hidden behind it, and the frame keeps Tab and Shift+Tab inside the chat.
  var covering = window.matchMedia ? window.matchMedia('(max-width: 480px)') : null;
  var madeInert = []; // the page's elements this loader made inert, to be given back
  var watcher = null;
  var modal = false;

  var cssReady = false;
  var config = null; // the frame's 'ready' message
  var isOpen = false;
  var reported = '';
  var launcherText = 'Chat';

  function post(msg) {
    msg.parley = 1;
    if (frame.contentWindow) frame.contentWindow.postMessage(msg, origin);
  }

  function page() {
    return {
      url: clean(location.href),
      title: String(document.title || '').slice(0, 300),
      referrer: clean(document.referrer),
      language: navigator.language || '',
      screen: (window.screen ? screen.width + 'x' + screen.height : ''),
    };
  }

  function pageView() {
    var p = page();
    if (!config || p.url === reported) return;
    reported = p.url;
    post({ type: 'pageview', page: p });
  }

  function show() {
    if (cssReady && config) launcher.hidden = false;
  }

  function makeInert(node) {
    if (node === host || node.nodeType !== 1 || node.inert || node.hasAttribute('inert')) return;
    node.inert = true;
    madeInert.push(node);
  }

  // setModal makes the page behind the panel inert (or gives it back) while the open panel covers
  // the viewport, and tells the frame to hold the focus.
  function setModal(on) {
    if (on === modal) return;
    modal = on;
    if (on) {
      for (var i = 0; i < document.body.children.length; i++) makeInert(document.body.children[i]);
      // Whatever the page adds while the panel covers it is inert too.
      if (window.MutationObserver) {
        watcher = new MutationObserver(function (list) {
          for (var j = 0; j < list.length; j++) {
            for (var k = 0; k < list[j].addedNodes.length; k++) makeInert(list[j].addedNodes[k]);
          }
        });
        watcher.observe(document.body, { childList: true });
      }
      panel.setAttribute('aria-modal', 'true');
    } else {
      if (watcher) watcher.disconnect();
      watcher = null;
      while (madeInert.length) madeInert.pop().inert = false;
      panel.removeAttribute('aria-modal');
    }
    post({ type: 'modal', on: on });
  }

  function fitModal() {
    setModal(isOpen && !!covering && covering.matches);
  }

  function open(focus) {
    if (isOpen) return;
    isOpen = true;
    panel.hidden = false;
    box.classList.add('pw-open');
    launcher.setAttribute('aria-expanded', 'true');
    fitModal();
    if (focus) frame.focus();
    post({ type: 'open', focus: !!focus });
  }

  function close(focus) {
    if (!isOpen) return;
    isOpen = false;
    panel.hidden = true;
    box.classList.remove('pw-open');
    launcher.setAttribute('aria-expanded', 'false');
    fitModal();
    post({ type: 'close' });
    if (focus) launcher.focus();
  }

  function unread(count, text) {
    badge.hidden = !(count > 0);
    badge.textContent = count > 99 ? '99+' : String(count);
    launcher.setAttribute('aria-label', count > 0 ? launcherText + ' (' + text + ')' : launcherText);
    if (count > 0) live.textContent = text;
  }

  css.addEventListener('load', function () { cssReady = true; show(); });
  launcher.addEventListener('click', function () { if (isOpen) close(true); else open(true); });
  box.addEventListener('keydown', function (e) { if (e.key === 'Escape' && isOpen) close(true); });
  frame.addEventListener('load', function () {
    post({ type: 'hello' });
    if (modal) post({ type: 'modal', on: true });
  });
  if (covering) {
    if (covering.addEventListener) covering.addEventListener('change', fitModal);
    else if (covering.addListener) covering.addListener(fitModal);
  }

  window.addEventListener('message', function (e) {
    if (e.source !== frame.contentWindow || e.origin !== origin) return;
    var d = e.data;
    if (!d || d.parley !== 1 || typeof d.type !== 'string') return;
    switch (d.type) {
      case 'ready':
        config = d;
        strip = strip.concat(Array.isArray(d.strip) ? d.strip.map(function (s) { return String(s).toLowerCase(); }) : []);
        launcherText = String(d.label || 'Chat');
        label.textContent = launcherText;
        launcher.setAttribute('aria-label', launcherText);
        panel.setAttribute('aria-label', String(d.title || 'Chat'));
        frame.title = String(d.title || 'Chat');
        if (/^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(d.color || '')) {
          box.style.setProperty('--pw-accent', d.color);
          box.style.setProperty('--pw-on-accent', onAccent(d.color));
        }
        box.className = box.className.replace(/pw-(left|right)/, d.position === 'left' ? 'pw-left' : 'pw-right');
        show();
        pageView();
        if (d.open) open(false);
        break;
      case 'unread':
        unread(Number(d.count) || 0, String(d.text || ''));
        break;
      case 'open':
        open(false);
        break;
      case 'close':
        close(true);
        break;
      case 'cobrowse-start':
        cbStart(d);
        break;
      case 'cobrowse-cmd':
        cbCommand(d.cmd || {});
        break;
      case 'cobrowse-stop':
        cbStop();
        break;
    }
  });

  // --- co-browsing ------------------------------------------------------------------------------
  // Only after the visitor agreed in the chat (the frame says so with cobrowse-start), this page
  // is recorded: a snapshot as a compact tree, then its mutations, scroll, viewport and pointer,
  // posted to the frame, which relays them to Parley. Private elements (data-parley-private,
  // .parley-nosync), password and card fields become empty placeholders here, before anything
  // leaves the page; form values are masked unless the site allowlists the field; the widget
  // itself is never recorded. A banner shows while the page is shared, with Stop.
  var CB_SECRET_PARTS = ['card', 'cvv', 'cvc', 'password', 'passwd', 'securitycode', 'ccnum', 'ccno'];
  var CB_SECRET_WORDS = ['pan', 'pin', 'csc', 'cc', 'iban', 'pwd', 'expiry', 'exp', 'otp', 'ssn'];
  var CB_SKIP = { script: 1, noscript: 1, template: 1, iframe: 1, frame: 1, object: 1, embed: 1, base: 1, meta: 1 };
  var CB_MASK = '\u2022\u2022\u2022\u2022\u2022\u2022';
  var cb = null;

  function cbSecretName(s) {
    var words = String(s || '').toLowerCase().split(/[^a-z0-9]+/);
    for (var i = 0; i < words.length; i++) {
      if (!words[i]) continue;
      if (CB_SECRET_WORDS.indexOf(words[i]) >= 0) return true;
      for (var j = 0; j < CB_SECRET_PARTS.length; j++) if (words[i].indexOf(CB_SECRET_PARTS[j]) >= 0) return true;
    }
    return false;
  }

  function cbPrivate(el) {
    if (el.nodeType !== 1) return false;
    if (el.hasAttribute('data-parley-private') || (el.classList && el.classList.contains('parley-nosync'))) return true;
    var ac = String(el.getAttribute('autocomplete') || '').trim().toLowerCase();
    if (ac.indexOf('cc-') === 0) return true;
    var tag = el.localName;
    if (tag === 'input' || tag === 'textarea' || tag === 'select') {
      return String(el.getAttribute('type') || '').toLowerCase() === 'password' || cbSecretName(el.name) || cbSecretName(el.id) || cbSecretName(ac);
    }
    return false;
  }

  // cbHidden reports whether n is (inside) the widget or a private element.
  function cbHidden(n) {
    for (var e = n; e; e = e.parentNode) {
      if (e === host) return true;
      if (e.nodeType === 1 && cbPrivate(e)) return true;
    }
    return false;
  }

  function cbId(n) {
    var id = cb.ids.get(n);
    if (!id) {
      id = cb.next++;
      cb.ids.set(n, id);
      cb.byId.set(id, n);
    }
    return id;
  }

  function cbShown(el) {
    var key = String(el.name || el.id || '').toLowerCase();
    var t = String(el.type || '').toLowerCase();
    return ['submit', 'button', 'reset', 'checkbox', 'radio', 'color', 'range'].indexOf(t) >= 0 || (key && cb.allow.indexOf(key) >= 0);
  }

  function cbValue(el) {
    var v = String(el.value || '');
    return v && !cbShown(el) ? CB_MASK : v.slice(0, 4000);
  }

  // cbNode serialises a node: {id, k:"e", tag, a, c} for an element, {id, k:"t", v} for text, and
  // {id, k:"p", w, h} — an empty box of the same size — for a private element.
  function cbNode(n) {
    if (n === host) return null;
    if (n.nodeType === 3) {
      var p = n.parentNode;
      return { id: cbId(n), k: 't', v: p && p.localName === 'textarea' ? CB_MASK : String(n.data).slice(0, 65536) };
    }
    if (n.nodeType !== 1) return null;
    var tag = n.localName;
    if (CB_SKIP[tag] || (tag === 'input' && String(n.type).toLowerCase() === 'hidden')) return null;
    if (cbPrivate(n)) {
      var r = n.getBoundingClientRect();
      return { id: cbId(n), k: 'p', w: Math.round(r.width), h: Math.round(r.height) };
    }
    var a = {};
    for (var i = 0; i < n.attributes.length && i < 64; i++) {
      var at = n.attributes[i];
      var name = at.name.toLowerCase();
      if (name.indexOf('on') === 0 || name === 'value' || name.indexOf('data-') === 0) continue;
      a[name] = at.value;
    }
    if (tag === 'a' && n.href) a.href = String(n.href);
    if (tag === 'img' && n.src) a.src = String(n.currentSrc || n.src);
    if (tag === 'link' && n.href) a.href = String(n.href);
    if (tag === 'input' || tag === 'select') a.value = cbValue(n);
    if (tag === 'input' && n.checked) a.checked = '';
    var out = { id: cbId(n), k: 'e', tag: tag, a: a, c: [] };
    for (var c = n.firstChild; c; c = c.nextSibling) {
      var k = cbNode(c);
      if (k) out.c.push(k);
    }
    return out;
  }

  function cbPost(frame) {
    if (cb) post({ type: 'cobrowse-frame', frame: frame });
  }

  function cbSnapshot() {
    cb.pending = [];
    cbPost({ t: 'snapshot', url: clean(location.href), title: String(document.title || '').slice(0, 300), w: window.innerWidth,
      h: window.innerHeight, x: Math.round(window.scrollX), y: Math.round(window.scrollY), root: cbNode(document.documentElement) });
  }

  function cbQueue(m) {
    cb.pending.push(m);
    if (cb.pending.length >= 1500) cbFlush();
    else if (!cb.timer) cb.timer = setTimeout(cbFlush, 100);
  }

  function cbFlush() {
    if (!cb) return;
    clearTimeout(cb.timer);
    cb.timer = 0;
    if (cb.pending.length) cbPost({ t: 'mutations', m: cb.pending.splice(0, cb.pending.length) });
  }

  function cbMutations(list) {
    for (var i = 0; i < list.length; i++) {
      var r = list[i];
      var target = r.target;
      if (cbHidden(target) && !(r.type === 'attributes' && target.nodeType === 1 && cbPrivate(target) && cb.ids.get(target))) continue;
      if (r.type === 'childList') {
        for (var j = 0; j < r.removedNodes.length; j++) {
          var gone = cb.ids.get(r.removedNodes[j]);
          if (gone) cbQueue({ op: 'remove', id: gone });
        }
        for (var k = 0; k < r.addedNodes.length; k++) {
          var added = r.addedNodes[k];
          if (added.parentNode !== target) continue;
          var node = cbNode(added);
          if (!node) continue;
          var next = added.nextSibling;
          while (next && !cb.ids.get(next)) next = next.nextSibling;
          cbQueue({ op: 'add', parent: cbId(target), before: next ? cb.ids.get(next) : 0, tag: target.localName, node: node });
        }
      } else if (r.type === 'characterData') {
        if (cb.ids.get(target)) cbQueue({ op: 'text', id: cbId(target), tag: target.parentNode ? target.parentNode.localName : '', v: String(target.data).slice(0, 65536) });
      } else if (r.type === 'attributes') {
        var id = cb.ids.get(target);
        var name = String(r.attributeName || '').toLowerCase();
        if (!id || name.indexOf('on') === 0 || name.indexOf('data-') === 0 && name !== 'data-parley-private' || name === 'value') continue;
        if (cbPrivate(target) || name === 'data-parley-private' || name === 'class') {
          // Private now (or maybe no longer): send the element again, as a placeholder or in full.
          var parent = target.parentNode;
          var after = target.nextSibling;
          while (after && !cb.ids.get(after)) after = after.nextSibling;
          cbQueue({ op: 'remove', id: id });
          cb.ids.delete(target);
          if (parent && cb.ids.get(parent)) {
            cbQueue({ op: 'add', parent: cb.ids.get(parent), before: after ? cb.ids.get(after) : 0, tag: parent.localName, node: cbNode(target) });
          }
          continue;
        }
        var v = target.getAttribute(r.attributeName);
        if (name === 'href' && v !== null && target.href) v = String(target.href);
        if (name === 'src' && v !== null && target.src) v = String(target.src);
        cbQueue({ op: 'attr', id: id, tag: target.localName, name: name, v: v });
      }
    }
  }

  function cbInput(e) {
    var el = e.target;
    if (!cb || !el || cbHidden(el) || !cb.ids.get(el)) return;
    if (el.localName === 'input' && (el.type === 'checkbox' || el.type === 'radio')) {
      cbQueue({ op: 'attr', id: cb.ids.get(el), tag: 'input', name: 'checked', v: el.checked ? '' : null });
      return;
    }
    cbQueue({ op: 'value', id: cb.ids.get(el), name: String(el.name || el.id || ''), v: cbValue(el) });
  }

  var cbLast = { scroll: 0, pointer: 0 };
  function cbThrottled(kind, frame) {
    var now = Date.now();
    if (now - cbLast[kind] < 100) return;
    cbLast[kind] = now;
    cbFlush();
    cbPost(frame);
  }
  function cbScroll() { if (cb) cbThrottled('scroll', { t: 'scroll', id: 0, x: Math.round(window.scrollX), y: Math.round(window.scrollY) }); }
  function cbPointer(e) { if (cb) cbThrottled('pointer', { t: 'pointer', x: Math.round(e.clientX), y: Math.round(e.clientY) }); }
  function cbResize() { if (cb) cbPost({ t: 'viewport', w: window.innerWidth, h: window.innerHeight }); }

  // cbCommand applies what the frame relays from Parley: a request for a fresh snapshot, the
  // mode, and in control mode the agent's clicks, scrolls and typing (never into a private field).
  function cbCommand(c) {
    if (!cb) return;
    if (c.t === 'resync') { cbSnapshot(); return; }
    if (c.t === 'mode') { cb.mode = c.mode === 'control' ? 'control' : 'view'; cbBanner(); return; }
    if (cb.mode !== 'control') return;
    if (c.t === 'scroll') { window.scrollTo(Number(c.x) || 0, Number(c.y) || 0); return; }
    var el = cb.byId.get(Number(c.id));
    if (!el || el.nodeType !== 1 || !el.isConnected || cbHidden(el)) return;
    if (c.t === 'click') {
      if (typeof el.focus === 'function') el.focus();
      el.click();
    } else if (c.t === 'input' && (el.localName === 'input' || el.localName === 'textarea')) {
      el.focus();
      el.value = String(c.v || '');
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }
  }

  var banner = null;
  function cbBanner() {
    if (!cb) { if (banner) banner.remove(); banner = null; return; }
    if (!banner) {
      banner = el('div', 'pw-cobrowse', { role: 'status', 'aria-live': 'polite' });
      var s = banner.style;
      s.position = 'fixed'; s.top = '0'; s.left = '0'; s.right = '0'; s.zIndex = '2147483647'; s.display = 'flex'; s.gap = '12px';
      s.alignItems = 'center'; s.justifyContent = 'center'; s.padding = '8px 12px'; s.background = '#b00020'; s.color = '#ffffff';
      s.font = '600 15px/1.4 system-ui, sans-serif'; s.boxShadow = '0 2px 6px rgba(0,0,0,.3)';
      banner.appendChild(el('span', 'pw-cobrowse-text', {}));
      var take = el('button', 'pw-cobrowse-take', { type: 'button' });
      var stop = el('button', 'pw-cobrowse-stop', { type: 'button' });
      [take, stop].forEach(function (b) {
        b.style.font = 'inherit'; b.style.padding = '4px 12px'; b.style.border = '2px solid #ffffff'; b.style.borderRadius = '4px';
        b.style.background = '#ffffff'; b.style.color = '#b00020'; b.style.cursor = 'pointer';
      });
      take.addEventListener('click', function () { post({ type: 'cobrowse-revoke' }); });
      stop.addEventListener('click', function () { post({ type: 'cobrowse-stop-request' }); cbStop(); });
      banner.appendChild(take);
      banner.appendChild(stop);
      root.appendChild(banner);
    }
    var tx = cb.texts;
    banner.firstChild.textContent = cb.mode === 'control' ? tx.control : tx.sharing;
    banner.childNodes[1].textContent = tx.take_back;
    banner.childNodes[1].hidden = cb.mode !== 'control';
    banner.childNodes[2].textContent = tx.stop;
  }

  function cbStart(d) {
    if (cb) return;
    var tx = d.texts || {};
    cb = { ids: new WeakMap(), byId: new Map(), next: 1, pending: [], timer: 0, mode: 'view',
      allow: Array.isArray(d.allow) ? d.allow.map(function (x) { return String(x).toLowerCase(); }) : [],
      texts: { sharing: String(tx.sharing || 'Your screen is being shared'), control: String(tx.control || 'The agent can click and type on this page'),
        stop: String(tx.stop || 'Stop'), take_back: String(tx.take_back || 'Take back control') } };
    cb.observer = new MutationObserver(cbMutations);
    cb.observer.observe(document.documentElement, { childList: true, attributes: true, characterData: true, subtree: true });
    document.addEventListener('input', cbInput, true);
    document.addEventListener('change', cbInput, true);
    window.addEventListener('scroll', cbScroll, { passive: true });
    window.addEventListener('resize', cbResize);
    document.addEventListener('mousemove', cbPointer, { passive: true });
    cbBanner();
    cbSnapshot();
  }

  function cbStop() {
    if (!cb) return;
    cb.observer.disconnect();
    clearTimeout(cb.timer);
    document.removeEventListener('input', cbInput, true);
    document.removeEventListener('change', cbInput, true);
    window.removeEventListener('scroll', cbScroll);
    window.removeEventListener('resize', cbResize);
    document.removeEventListener('mousemove', cbPointer);
    cb = null;
    cbBanner();
  }

  // Single-page sites change the address without loading a page: report those views too.
  window.addEventListener('popstate', pageView);
  setInterval(pageView, 2000);

  function attach() { document.body.appendChild(host); }
  if (document.body) attach();
  else document.addEventListener('DOMContentLoaded', attach);
})();

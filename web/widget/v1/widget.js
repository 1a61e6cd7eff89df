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
    }
  });

  // Single-page sites change the address without loading a page: report those views too.
  window.addEventListener('popstate', pageView);
  setInterval(pageView, 2000);

  function attach() { document.body.appendChild(host); }
  if (document.body) attach();
  else document.addEventListener('DOMContentLoaded', attach);
})();

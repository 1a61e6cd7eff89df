// The demo visitor page's own script: the basket button, so that a co-browsing agent sees the
// page change (and, in control mode, can press it for the visitor).
(function () {
  'use strict';
  var add = document.getElementById('demo-add');
  var basket = document.getElementById('demo-basket');
  if (!add || !basket) return;
  var n = 0;
  add.addEventListener('click', function () {
    n++;
    basket.textContent = 'Basket: ' + n + (n === 1 ? ' item' : ' items');
  });
})();

// "Add hostile markup" puts into the fine print what a hostile page could hold — an event
// handler, a script URL, an image with an onerror handler, a script element — to show that
// co-browsing lets none of it run in the agent's console (Parley sanitises, the viewer has no
// script). This page's own policy blocks all of it here, and reports each handler as a policy
// violation in the browser's console: that is why it is added only on request.
(function () {
  'use strict';
  var p = document.getElementById('demo-fineprint');
  var button = document.getElementById('demo-hostile');
  if (!p || !button) return;
  button.addEventListener('click', function () {
    var payload = 'window.__pwned=1';
    p.setAttribute('title', '"><img src=x onerror="' + payload + '">');
    p.setAttribute('onfocus', payload);
    var a = document.createElement('a');
    a.className = 'demo-terms';
    a.textContent = 'Read the terms';
    a.setAttribute('href', 'javascript:' + payload);
    var img = document.createElement('img');
    img.setAttribute('alt', '');
    img.setAttribute('onerror', payload);
    var s = document.createElement('script');
    s.type = 'text/plain';
    s.textContent = payload;
    p.append(' ', a, ' ', img, s, document.createTextNode(' <img src=x onerror="' + payload + '">'));
    button.remove();
  });
})();

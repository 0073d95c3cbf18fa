// The "preparing your eSIM" state without a meta refresh: polls the order's status every
// 1.5 s, updates the headline and message in place (an aria-live region), and reloads the page
// as soon as the eSIM is ready so its QR code shows. Without JavaScript a <noscript> refresh
// does the same.
(function () {
  var live = document.getElementById("order-live");
  if (!live || !live.hasAttribute("data-poll") || !window.fetch) return;
  var shown = live.getAttribute("data-poll");
  var url = location.pathname.replace(/\/$/, "") + "/status" + location.search;
  var title = document.getElementById("order-title");
  var message = document.getElementById("order-message");
  var slow = document.getElementById("order-slow");
  var updating = document.getElementById("order-updating");
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return setTimeout(poll, 3000);
        if (s.status !== shown && !s.pending) { location.reload(); return; }
        if (title.textContent !== s.headline) title.textContent = s.headline;
        if (message.textContent !== s.message) message.textContent = s.message;
        if (slow) slow.hidden = !s.taking_longer;
        shown = s.status;
        if (s.pending) setTimeout(poll, 1500);
        else if (updating) updating.hidden = true;
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();

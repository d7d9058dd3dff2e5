// FlexPool worker pages: install the service worker (offline "My shifts"), and forget the
// pages it kept when the worker signs out. Everything else works without this file.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  });
}
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form && /\/accounts\/logout\/$/.test(form.getAttribute("action") || "") && window.caches) {
    caches.keys().then(function (keys) {
      keys.forEach(function (key) { caches.delete(key); });
    });
  }
});

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

// Notifications on this phone: shown only where the browser supports web push and the
// pool has configured it. The page works fully without it (e-mail and SMS are the form).
(function () {
  var box = document.getElementById("push-notifications");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window) || !window.Notification) {
    return;
  }
  var button = document.getElementById("push-turn-on");
  var status = document.getElementById("push-status");
  box.hidden = false;

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function say(text) { status.textContent = text; }

  button.addEventListener("click", function () {
    button.disabled = true;
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") throw new Error("denied");
        return navigator.serviceWorker.register("/sw.js", { scope: "/" })
          .then(function () { return navigator.serviceWorker.ready; });
      })
      .then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(box.getAttribute("data-public-key")),
        });
      })
      .then(function (subscription) {
        return fetch(box.getAttribute("data-subscribe-url"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify(subscription.toJSON()),
        });
      })
      .then(function (response) {
        if (!response.ok) throw new Error("server");
        say("Notifications are on for this phone.");
      })
      .catch(function (error) {
        button.disabled = false;
        say(error && error.message === "denied"
          ? "Notifications are blocked for this site. You can allow them in your browser's settings."
          : "We could not turn on notifications. Try again later.");
      });
  });
})();

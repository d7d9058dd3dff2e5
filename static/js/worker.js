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

// "Get offers on this phone": a switch, on and off, shown where the browser supports web
// push and the pool has it on. Subscribing is the opt-in; switching off tells the server
// to forget this phone and the browser to drop the subscription.
(function () {
  var box = document.getElementById("push-notifications");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window) || !window.Notification) {
    return;
  }
  var onButton = document.getElementById("push-turn-on");
  var offButton = document.getElementById("push-turn-off");
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

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
  }

  function show(isOn, text) {
    onButton.hidden = isOn;
    offButton.hidden = !isOn;
    onButton.disabled = false;
    offButton.disabled = false;
    status.textContent = text;
  }

  function registration() {
    return navigator.serviceWorker.register("/sw.js", { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; });
  }

  function current() {
    return navigator.serviceWorker.getRegistration("/").then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    });
  }

  current().then(function (subscription) {
    show(Boolean(subscription), subscription ? "Offers come to this phone as notifications." : "");
  }).catch(function () { show(false, ""); });

  onButton.addEventListener("click", function () {
    onButton.disabled = true;
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") throw new Error("denied");
        return registration();
      })
      .then(function (reg) {
        return reg.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(box.getAttribute("data-public-key")),
        });
      })
      .then(function (subscription) {
        return post(box.getAttribute("data-subscribe-url"), subscription.toJSON());
      })
      .then(function (response) {
        if (!response.ok) throw new Error("server");
        show(true, "Offers come to this phone as notifications.");
      })
      .catch(function (error) {
        show(false, error && error.message === "denied"
          ? "Notifications are blocked for this site. You can allow them in your browser's settings."
          : "We could not turn on notifications on this phone. Try again later.");
      });
  });

  offButton.addEventListener("click", function () {
    offButton.disabled = true;
    current()
      .then(function (subscription) {
        if (!subscription) return null;
        var endpoint = subscription.endpoint;
        return subscription.unsubscribe().then(function () {
          return post(box.getAttribute("data-unsubscribe-url"), { endpoint: endpoint });
        });
      })
      .then(function () { show(false, "Offers no longer come to this phone."); })
      .catch(function () {
        show(true, "We could not turn off notifications on this phone. Try again later.");
      });
  });
})();

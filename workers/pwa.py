"""The progressive web app's two files, served from the site root so the service worker's
scope covers the whole site."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from accounts.access import Who, allow

# Bump when the cached pages' shape changes, so old caches are dropped.
CACHE_VERSION = "flexpool-v1"


@allow(Who.PUBLIC)
@require_GET
@cache_control(max_age=3600, public=True)
def manifest(request: HttpRequest) -> HttpResponse:
    body = {
        "name": "FlexPool",
        "short_name": "FlexPool",
        "description": "Shifts from your council's care-worker pool.",
        "start_url": reverse("workers:offers"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d70b8",
        "icons": [
            {
                "src": static("js/flexpool-icon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "any",
            }
        ],
    }
    return HttpResponse(json.dumps(body), content_type="application/manifest+json")


SERVICE_WORKER = """\
// FlexPool service worker: keeps "My shifts" and its stylesheet readable offline.
const CACHE = %(cache)s;
const OFFLINE_PAGES = [%(shifts)s];
const ASSETS = %(assets)s;
const ICON = %(icon)s;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (ASSETS.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.mode === "navigate" && OFFLINE_PAGES.some((p) => url.pathname.startsWith(p))) {
    // Network first, so the list is fresh; the last copy is kept for when there is no signal.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(request, copy));
          }
          return response;
        })
        .catch(() => caches.match(request))
    );
  }
});

// Web push (notifications.backends.WebPushBackend): show the message, open its page on a tap.
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (e) {
    message = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(message.title || "FlexPool", {
      body: message.body || "",
      icon: ICON,
      data: { url: message.url || "/" },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => w.url === target.href && "focus" in w);
      return open ? open.focus() : self.clients.openWindow(target.href);
    })
  );
});
"""


@allow(Who.PUBLIC)
@require_GET
@cache_control(max_age=0, no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    assets = [
        static("vendor/govuk/govuk-frontend.min.css"),
        static("css/flexpool.css"),
        static("js/worker.js"),
    ]
    body = SERVICE_WORKER % {
        "cache": json.dumps(CACHE_VERSION),
        "shifts": json.dumps(reverse("workers:shifts")),
        "assets": json.dumps(assets),
        "icon": json.dumps(static("js/flexpool-icon.svg")),
    }
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response

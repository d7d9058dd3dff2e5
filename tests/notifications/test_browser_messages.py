"""On a 360 px phone in real Chromium: the "Get offers on this phone" switch turns web
push on and off, and the in-app messages list shows what is new with an unread count."""

from __future__ import annotations

import base64

import pytest

from notifications.management.commands.vapid_keys import vapid_key_pair
from notifications.models import Notification, PushSubscription
from tests.browser import axe_check, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


ENDPOINT = "https://push.example.test/send/phone-1"
# Headless Chromium has no push service to reach here, so the browser's push service
# stands in: subscribe() returns a subscription shaped as a real one (the page's own
# script, service worker, permission prompt and the server's endpoints are all real).
PUSH_SERVICE = (
    """
(() => {
  let current = null;
  const make = () => ({
    endpoint: "ENDPOINT",
    toJSON() { return {endpoint: this.endpoint, expirationTime: null,
                       keys: {p256dh: "P256DH", auth: "AUTH"}}; },
    unsubscribe() { current = null; return Promise.resolve(true); },
  });
  PushManager.prototype.subscribe = function () { current = make(); return Promise.resolve(current); };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
})();
""".replace("ENDPOINT", ENDPOINT)
    .replace("P256DH", b64url(b"\x04" + bytes(range(1, 65))))
    .replace("AUTH", b64url(bytes(range(16))))
)


def test_a_worker_turns_offers_on_this_phone_on_and_off(live_server, phone, worker, settings):
    public, private = vapid_key_pair()
    settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY = public, private
    phone.grant_permissions(["notifications"], origin=live_server.url)
    phone.add_init_script(PUSH_SERVICE)
    page = sign_in(phone, live_server, worker.user)
    page.goto(live_server.url + "/worker/offers/")
    on = page.get_by_role("button", name="Get offers on this phone")
    on.wait_for()
    axe_check(page, "offers-push-switch")
    on.click()
    page.get_by_text("Offers come to this phone as notifications.").wait_for()
    assert PushSubscription.objects.filter(user=worker.user, endpoint=ENDPOINT).exists()
    off = page.get_by_role("button", name="Stop offers on this phone")
    assert off.is_visible() and not on.is_visible()
    off.click()
    page.get_by_text("Offers no longer come to this phone.").wait_for()
    assert not PushSubscription.objects.filter(user=worker.user).exists()
    assert page.get_by_role("button", name="Get offers on this phone").is_visible()


def test_a_worker_sees_new_messages_counted_then_read(live_server, phone, worker):
    for subject in ("Shift offer: Care worker at Oak House", "Your shift tomorrow"):
        Notification.objects.create(user=worker.user, kind="k", subject=subject, body="Details.")
    page = sign_in(phone, live_server, worker.user)
    page.goto(live_server.url + "/worker/offers/")
    menu = page.get_by_role("navigation", name="Menu")
    if page.get_by_role("button", name="Menu").is_visible():
        page.get_by_role("button", name="Menu").click()
    link = menu.get_by_role("link", name="Messages 2 unread")
    link.click()
    page.wait_for_url("**/worker/messages/")
    assert page.locator(".govuk-tag", has_text="New").count() == 2
    assert page.get_by_text("Your shift tomorrow").is_visible()
    axe_check(page, "messages")
    page.reload()
    assert page.locator(".govuk-tag", has_text="New").count() == 0
    # Nothing unread now: the menu link is plain "Messages" again.
    assert page.locator("#navigation a[href='/worker/messages/']").text_content() == "Messages"

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management import call_command
from django.urls import reverse

from notifications.management.commands.vapid_keys import vapid_key_pair
from notifications.models import Notification, PushSubscription
from notifications.services import push_subscription_save
from notifications.tasks import notification_deliver

pytestmark = pytest.mark.django_db

PUSH_BACKENDS = ["notifications.backends.ConsoleBackend", "notifications.backends.WebPushBackend"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Browser:
    """What a real browser keeps for one push subscription: its key pair and auth secret."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: bytes(range(16)))

    @property
    def p256dh(self) -> str:
        public = self.private_key.public_key()
        return b64url(public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))

    def subscription_json(self, endpoint: str) -> dict[str, object]:
        return {
            "endpoint": endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)},
        }


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class PushService:
    """A push service on 127.0.0.1 that records what it is sent and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 201
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                service.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(service.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def endpoint(self, name: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/push/{name}"


@pytest.fixture
def push_service(monkeypatch) -> Iterator[PushService]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    service = PushService()
    service.thread.start()
    yield service
    service.server.shutdown()
    service.server.server_close()


@pytest.fixture
def vapid(settings) -> str:
    public, private = vapid_key_pair()
    settings.WEBPUSH_VAPID_PUBLIC_KEY = public
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:pool@flexpool.test"
    settings.NOTIFICATION_BACKENDS = PUSH_BACKENDS
    return public


def post_json(client, name: str, data: object):
    return client.post(
        reverse(f"workers:{name}"), data=json.dumps(data), content_type="application/json"
    )


# --- Subscribing and unsubscribing --------------------------------------------------------


def test_a_worker_subscribes_this_browser_and_can_unsubscribe_it(client, worker):
    client.force_login(worker.user)
    browser = Browser()
    sub = browser.subscription_json("https://push.example.test/send/abc")
    response = post_json(client, "push_subscribe", sub)
    assert response.status_code == 201
    stored = PushSubscription.objects.get()
    assert (stored.user, stored.p256dh) == (worker.user, browser.p256dh)

    assert post_json(client, "push_subscribe", sub).status_code == 201  # sent twice: one row
    assert PushSubscription.objects.count() == 1

    assert post_json(client, "push_unsubscribe", sub).status_code == 200
    assert not PushSubscription.objects.exists()


def test_a_worker_cannot_unsubscribe_another_workers_browser(client, worker, other_worker):
    endpoint = "https://push.example.test/send/olive"
    push_subscription_save(
        user=other_worker.user, endpoint=endpoint, p256dh=Browser().p256dh, auth=b64url(b"x" * 16)
    )
    client.force_login(worker.user)
    response = post_json(client, "push_unsubscribe", {"endpoint": endpoint})
    assert response.status_code == 404
    assert PushSubscription.objects.filter(user=other_worker.user).count() == 1


@pytest.mark.parametrize(
    ("data", "field_name"),
    [
        ({"endpoint": "not a url", "keys": {"p256dh": Browser().p256dh, "auth": "AAAA"}}, None),
        ({"endpoint": "https://push.example.test/x", "keys": {"p256dh": "short"}}, "p256dh"),
        ({"endpoint": "https://push.example.test/x"}, "auth"),
        ([1, 2, 3], "__all__"),
    ],
)
def test_a_subscription_that_is_not_one_is_refused_with_field_errors(
    client, worker, data, field_name
):
    client.force_login(worker.user)
    response = post_json(client, "push_subscribe", data)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field_name in errors if field_name else "endpoint" in errors
    assert not PushSubscription.objects.exists()


def test_subscribing_needs_sign_in(client):
    response = post_json(client, "push_subscribe", Browser().subscription_json("https://p.test/1"))
    assert response.status_code == 302
    assert not PushSubscription.objects.exists()


# --- Delivery through a real (local) push service ----------------------------------------


def test_a_notification_arrives_encrypted_for_the_browser_and_signed_with_vapid(
    worker, vapid, push_service
):
    browser = Browser()
    push_subscription_save(
        user=worker.user,
        endpoint=push_service.endpoint("wendy"),
        p256dh=browser.p256dh,
        auth=b64url(browser.auth),
    )
    note = Notification.objects.create(
        user=worker.user, kind="offer", subject="New shift", body="Tue 09:00", url="/worker/offers/"
    )
    notification_deliver(note.pk)

    note.refresh_from_db()
    assert note.delivered_at is not None
    [request] = push_service.received
    assert request.path == "/push/wendy"
    assert request.headers["content-encoding"] == "aes128gcm"
    authorization = request.headers["authorization"]
    assert authorization.startswith("vapid t=") and f"k={vapid}" in authorization
    plain = http_ece.decrypt(
        request.body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
    )
    assert json.loads(plain) == {
        "title": "New shift",
        "body": "Tue 09:00",
        "url": "/worker/offers/",
    }
    assert PushSubscription.objects.get().last_error == ""


def test_a_browser_the_push_service_has_forgotten_is_deleted(worker, vapid, push_service):
    push_service.status = 410
    browser = Browser()
    push_subscription_save(
        user=worker.user,
        endpoint=push_service.endpoint("gone"),
        p256dh=browser.p256dh,
        auth=b64url(browser.auth),
    )
    note = Notification.objects.create(user=worker.user, kind="k", subject="s", body="b")
    notification_deliver(note.pk)
    assert len(push_service.received) == 1
    assert not PushSubscription.objects.exists()
    note.refresh_from_db()
    assert note.delivered_at is not None


def test_another_push_failure_is_noted_and_delivery_carries_on(worker, vapid, push_service):
    push_service.status = 500
    browser = Browser()
    push_subscription_save(
        user=worker.user,
        endpoint=push_service.endpoint("flaky"),
        p256dh=browser.p256dh,
        auth=b64url(browser.auth),
    )
    note = Notification.objects.create(user=worker.user, kind="k", subject="s", body="b")
    notification_deliver(note.pk)
    note.refresh_from_db()
    assert note.delivered_at is not None
    assert PushSubscription.objects.get().last_error.startswith("500")


def test_without_a_vapid_key_nothing_is_pushed(worker, settings, push_service):
    assert "notifications.backends.WebPushBackend" not in settings.NOTIFICATION_BACKENDS
    browser = Browser()
    push_subscription_save(
        user=worker.user,
        endpoint=push_service.endpoint("off"),
        p256dh=browser.p256dh,
        auth=b64url(browser.auth),
    )
    note = Notification.objects.create(user=worker.user, kind="k", subject="s", body="b")
    notification_deliver(note.pk)
    assert push_service.received == []


# --- The page, the service worker and the key command -------------------------------------


def test_the_on_and_off_switch_appears_on_worker_pages_only_when_push_is_configured(
    client, worker, settings
):
    client.force_login(worker.user)
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    assert b"push-turn-on" not in client.get(reverse("workers:offers")).content
    public, private = vapid_key_pair()
    settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY = public, private
    for name in ("offers", "messages", "notifications"):
        page = client.get(reverse(f"workers:{name}")).content.decode()
        assert "Get offers on this phone" in page and "Stop offers on this phone" in page
        assert public in page


def test_the_service_worker_shows_pushed_messages_and_opens_their_page(client):
    body = client.get("/sw.js").content.decode()
    assert 'addEventListener("push"' in body and "showNotification" in body
    assert 'addEventListener("notificationclick"' in body and "openWindow" in body
    assert 'addEventListener("fetch"' in body  # the offline pages still work


def test_the_vapid_keys_command_prints_a_usable_pair(capsys):
    call_command("vapid_keys")
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    public = base64.urlsafe_b64decode(lines["WEBPUSH_VAPID_PUBLIC_KEY"] + "==")
    private = base64.urlsafe_b64decode(lines["WEBPUSH_VAPID_PRIVATE_KEY"] + "==")
    assert len(public) == 65 and public[0] == 4 and len(private) == 32


def test_the_vapid_keys_command_makes_a_pair_once_and_keeps_it(tmp_path, capsys):
    call_command("vapid_keys", write=str(tmp_path))
    private = (tmp_path / "vapid_private_key").read_text()
    assert (tmp_path / "vapid_private_key").stat().st_mode & 0o077 == 0  # owner only
    call_command("vapid_keys", write=str(tmp_path))
    assert (tmp_path / "vapid_private_key").read_text() == private
    assert "kept" in capsys.readouterr().out

"""A GOV.UK Notify stand-in on 127.0.0.1 (the real service is out of reach here): it
checks each request's token exactly as Notify does, with the official client library's
own decoder, records what it was sent and answers ``status``."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from notifications_python_client.authentication import decode_jwt_token, get_token_issuer

SERVICE_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "66666666-7777-8888-9999-000000000000"
# A made-up key in Notify's shape: key name, service id, secret.
NOTIFY_KEY = f"flexpool_test-{SERVICE_ID}-{SECRET}"


@dataclass
class NotifyRequest:
    path: str
    issuer: str
    payload: dict


class FakeNotify:
    def __init__(self) -> None:
        self.received: list[NotifyRequest] = []
        self.status = 201
        notify = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                try:
                    issuer = get_token_issuer(token)
                    decode_jwt_token(token, SECRET)
                except Exception:  # noqa: BLE001 - any bad token is a 403, as Notify answers
                    self._answer(403, {"errors": [{"error": "AuthError"}]})
                    return
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length))
                notify.received.append(NotifyRequest(self.path, issuer, payload))
                self._answer(notify.status, {"id": str(uuid.uuid4())})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"


@pytest.fixture
def notify(settings, monkeypatch) -> Iterator[FakeNotify]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    service = FakeNotify()
    service.thread.start()
    settings.NOTIFY_API_KEY = NOTIFY_KEY
    settings.NOTIFY_BASE_URL = service.url
    settings.NOTIFY_SMS_TEMPLATE_ID = "a1b2c3d4-0000-0000-0000-000000000001"
    settings.NOTIFY_EMAIL_TEMPLATE_ID = "a1b2c3d4-0000-0000-0000-000000000002"
    settings.NOTIFY_INBOUND_SMS_TOKEN = "callback-token-set-in-notify"
    yield service
    service.server.shutdown()
    service.server.server_close()

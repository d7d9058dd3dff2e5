"""Print a fresh VAPID key pair for web push, as the two settings it goes in."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management.base import BaseCommand


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def vapid_key_pair() -> tuple[str, str]:
    """A new P-256 key pair as (public, private): the public key as the browser's
    ``applicationServerKey`` wants it (uncompressed point), the private key as its raw
    32-byte number; both base64url without padding."""
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    secret = private.private_numbers().private_value.to_bytes(32, "big")
    return _b64url(public), _b64url(secret)


class Command(BaseCommand):
    help = (
        "Print a new VAPID key pair for web push. Keep the private key secret (e.g. in "
        "WEBPUSH_VAPID_PRIVATE_KEY_FILE); changing it makes every phone subscribe again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        public, private = vapid_key_pair()
        self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={public}")
        self.stdout.write(f"WEBPUSH_VAPID_PRIVATE_KEY={private}")

"""Print a fresh VAPID key pair for web push, as the two settings it goes in."""

from __future__ import annotations

import base64
import os
from pathlib import Path
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

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--write",
            metavar="DIR",
            help=(
                "Keep the pair in DIR/vapid_public_key and DIR/vapid_private_key (made once, "
                "kept afterwards), for WEBPUSH_VAPID_PUBLIC_KEY_FILE and _PRIVATE_KEY_FILE."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("write"):
            self._write(Path(options["write"]))
            return
        public, private = vapid_key_pair()
        self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={public}")
        self.stdout.write(f"WEBPUSH_VAPID_PRIVATE_KEY={private}")

    def _write(self, folder: Path) -> None:
        public_file, private_file = folder / "vapid_public_key", folder / "vapid_private_key"
        if public_file.exists() and private_file.exists():
            self.stdout.write(f"Web push keys: kept those in {folder}")
            return
        folder.mkdir(parents=True, exist_ok=True)
        public, private = vapid_key_pair()
        # The private key is written readable by its owner only, from the first byte.
        fd = os.open(private_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(private + "\n")
        public_file.write_text(public + "\n")
        self.stdout.write(f"Web push keys: made a new pair in {folder}")

"""Small, strict readers for settings that come from the environment.

Each reader fails loudly on a value it cannot parse, rather than guessing: a typo in
``DEBUG=ture`` must stop the process, not silently turn debugging off or on.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_UNSET = object()


def env_str(name: str, default: str | object = _UNSET) -> str:
    """Return ``name`` from the environment, or from the file named by ``name_FILE``."""
    file_var = f"{name}_FILE"
    if file_var in os.environ:
        path = Path(os.environ[file_var])
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{file_var} points at {path}, which cannot be read: {exc}"
            ) from exc
    if name in os.environ:
        return os.environ[name]
    if default is _UNSET:
        raise ImproperlyConfigured(f"Set the {name} environment variable (or {file_var}).")
    return str(default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value == "true":
        return True
    if value == "false":
        return False
    raise ImproperlyConfigured(f"{name} must be 'true' or 'false', not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]

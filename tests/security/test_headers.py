"""Security headers on every response: a strict Content-Security-Policy (no inline script
or style), Referrer-Policy and Permissions-Policy. (Inline code in every page the cast
can open is checked by tests/security/test_access_matrix.py.)"""

from __future__ import annotations

import pytest


def _directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize(
    "url, signed_in",
    [
        ("/", False),
        ("/accounts/login/", False),
        ("/worker/offers/", True),
        ("/api/v1/offers/", True),
    ],
)
def test_every_response_carries_the_security_headers(client, worker, url, signed_in):
    if signed_in:
        client.force_login(worker.user)
    response = client.get(url)
    assert response.status_code == 200
    policy = _directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    permissions = response["Permissions-Policy"]
    assert "camera=()" in permissions and "geolocation=()" in permissions


def test_only_the_api_docs_allow_inline_style(client, db):
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    policy = _directives(docs["Content-Security-Policy"])
    assert "'unsafe-inline'" in policy["style-src"]
    assert policy["script-src"] == ["'self'"]
    assert "<script>" not in docs.content.decode()

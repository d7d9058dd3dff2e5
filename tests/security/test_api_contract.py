"""The API's contract: each endpoint declares the errors it can answer, and a request
without credentials is a 401 that names its scheme."""

from __future__ import annotations

import yaml
from django.test import Client
from rest_framework.test import APIClient


def _schema(client) -> dict:
    return yaml.safe_load(client.get("/api/schema/").content)


def test_every_operation_declares_its_error_responses(db):
    paths = _schema(Client())["paths"]
    assert paths
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "429" in codes, (method, path)
            if path != "/api/v1/auth/token/":
                assert {"401", "404"} <= codes, (method, path)
            if method == "post" or operation.get("parameters"):
                assert "400" in codes, (method, path)
            if path.startswith("/api/v1/stats/"):
                assert "403" in codes, (method, path)


def test_without_credentials_every_endpoint_answers_401_naming_the_scheme(db):
    paths = _schema(Client())["paths"]
    client = APIClient()
    for path, operations in paths.items():
        if path == "/api/v1/auth/token/":
            continue
        url = path.replace("{", "").replace("}", "").replace("shift_id", "1")
        url = url.replace("offer_id", "1").replace("booking_id", "1")
        for method in operations:
            response = getattr(client, method)(url)
            assert response.status_code == 401, (method, url)
            assert response["WWW-Authenticate"] == "Token", (method, url)

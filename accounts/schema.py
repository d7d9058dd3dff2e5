"""The API schema says which errors each endpoint can answer, from the same declaration
the access rule reads (``accounts.access.allow``): a drf-spectacular postprocessing hook."""

from __future__ import annotations

from typing import Any

from accounts.access import Who, access_roles

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
MESSAGES = {
    "400": "The input is not valid: field errors by name, or non_field_errors.",
    "401": "Not signed in: send 'Authorization: Token <key>' (see WWW-Authenticate).",
    "403": "A coordinator without a second factor (set up TOTP first).",
    "404": "Not there for you: another organisation's object, or an endpoint for others.",
    "429": "Too many requests or failed sign-ins: wait and try again.",
}


def declare_error_responses(
    result: dict[str, Any], generator: Any, **kwargs: Any
) -> dict[str, Any]:
    views = {(path, method.lower()): view for path, _regex, method, view in generator.endpoints}
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            view = views.get((path, method))
            roles = access_roles(view) if view is not None else None
            codes = (
                {"400", "429"}
                if method in ("post", "put", "patch") or operation.get("parameters")
                else {"429"}
            )
            if roles is not None and Who.PUBLIC not in roles:
                codes |= {"401", "404"}
                if Who.COORDINATOR in roles:
                    codes.add("403")
            if "{" in path:
                codes.add("404")
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(
                    code,
                    {
                        "description": MESSAGES[code],
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result

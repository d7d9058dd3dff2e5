"""The two JSON endpoints the worker pages' script calls to turn web push on or off for
the browser it runs in (see static/js/worker.js), and GOV.UK Notify's inbound-SMS
callback (reply to accept)."""

from __future__ import annotations

import hmac
import json
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.access import Who, allow
from accounts.models import User
from notifications.forms import InboundSmsForm, PushSubscriptionForm, PushUnsubscribeForm
from notifications.selectors import deliveries_given_up
from notifications.services import push_subscription_delete, push_subscription_save
from notifications.sms import sms_inbound_handle


def _subscription_data(request: HttpRequest) -> dict[str, Any] | None:
    """The fields of a posted ``PushSubscription.toJSON()``, or None if it is not JSON."""
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    keys = data.get("keys")
    keys = keys if isinstance(keys, dict) else {}
    return {
        "endpoint": data.get("endpoint"),
        "p256dh": keys.get("p256dh"),
        "auth": keys.get("auth"),
    }


def _bad_request(errors: dict[str, Any]) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=400)


@allow(Who.SIGNED_IN)
@require_POST
def push_subscribe(request: HttpRequest) -> JsonResponse:
    user = request.user
    assert isinstance(user, User)
    data = _subscription_data(request)
    if data is None:
        return _bad_request({"__all__": ["Send the subscription as a JSON object."]})
    form = PushSubscriptionForm(data)
    if not form.is_valid():
        return _bad_request(form.errors.get_json_data())
    push_subscription_save(user=user, **form.cleaned_data)
    return JsonResponse({"subscribed": True}, status=201)


@allow(Who.SIGNED_IN)
@require_POST
def push_unsubscribe(request: HttpRequest) -> JsonResponse:
    user = request.user
    assert isinstance(user, User)
    data = _subscription_data(request)
    if data is None:
        return _bad_request({"__all__": ["Send the subscription as a JSON object."]})
    form = PushUnsubscribeForm({"endpoint": data["endpoint"]})
    if not form.is_valid():
        return _bad_request(form.errors.get_json_data())
    if not push_subscription_delete(user=user, endpoint=form.cleaned_data["endpoint"]):
        raise Http404
    return JsonResponse({"subscribed": False})


@allow(Who.COORDINATOR)
def delivery_failures(request: HttpRequest) -> HttpResponse:
    """Coordinators: the messages FlexPool gave up delivering, so someone can phone."""
    from pools.selectors import coordinator_of, pools_visible

    coordinator = coordinator_of(request.user)
    if coordinator is None:
        raise Http404
    pool_ids = list(pools_visible(coordinator=coordinator).values_list("pk", flat=True))
    return render(
        request,
        "notifications/delivery_failures.html",
        {"deliveries": deliveries_given_up(pool_ids=pool_ids)},
    )


def _notify_bearer_ok(request: HttpRequest) -> bool:
    token = settings.NOTIFY_INBOUND_SMS_TOKEN
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


@allow(Who.PUBLIC)  # Notify's bearer token is checked below
@csrf_exempt
@require_POST
def notify_inbound_sms(request: HttpRequest) -> JsonResponse:
    """GOV.UK Notify's inbound-SMS callback: a text a worker sent to the pool's number.
    Notify authenticates its callbacks with the bearer token set for the service; a
    reply carrying an offer's code accepts that offer (``notifications.sms``), and the
    answer goes back by text. The answer is also in the response, for the record."""
    if not settings.NOTIFY_INBOUND_SMS_TOKEN:
        raise Http404
    if not _notify_bearer_ok(request):
        return JsonResponse({"error": "unauthorised"}, status=401)
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        data = None
    form = InboundSmsForm(data if isinstance(data, dict) else None)
    if not form.is_valid():
        return _bad_request(form.errors.get_json_data())
    reply = sms_inbound_handle(
        sender=form.cleaned_data["source_number"], message=form.cleaned_data["message"]
    )
    return JsonResponse({"outcome": reply.outcome, "reply": reply.text})

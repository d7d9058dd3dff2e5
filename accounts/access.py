"""Who may see what: one mechanism for every page and every API endpoint.

Each view says whom it is for with ``@allow(Who…)``, on a function view (a page) or on a
DRF ``APIView`` class (the API). ``access_decide`` makes the decision, the same for both:

- not signed in: a page sends them to sign in, the API answers 401;
- signed in but holding none of the roles: 404 (the thing does not exist for them), except
  that someone with no area at all who asks for a worker page is sent to apply;
- when only the ``COORDINATOR`` role lets them in, they need a second factor (TOTP): a page
  sends a coordinator without one to enrol, the API answers 403.

Which objects a role may then see (its own provider's shifts, its own offers, its own
pool's workers) is decided by the view's lookups, and those answer 404 too. An API view
without ``@allow`` is refused (``AccessPermission`` is the default permission class); the
URL matrix test (tests/security/test_access_matrix.py) fails for any URL without a decision.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class Who(enum.StrEnum):
    PUBLIC = "public"  # anyone, signed in or not
    SIGNED_IN = "signed_in"  # anyone signed in
    WORKER = "worker"  # a worker whose account is open
    PROVIDER = "provider"  # a member of a provider
    COORDINATOR = "coordinator"  # the pool's staff, always with a second factor


class Decision(enum.Enum):
    ALLOW = "allow"
    SIGN_IN = "sign_in"
    NOT_FOUND = "not_found"
    SECOND_FACTOR = "second_factor"
    APPLY = "apply"


def has_second_factor(user: Any) -> bool:
    """An authenticator app (TOTP) or a security key is enrolled; allauth then asks for it
    at every sign-in."""
    from allauth.mfa.models import Authenticator

    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_has_second_factor", None)
    if cached is None:
        cached = Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()
        user._has_second_factor = cached
    return bool(cached)


# How to find the record that makes someone a worker, a provider's member or a coordinator:
# each app registers its selector (``access_holder_register`` in its AppConfig.ready), so
# this module imports nothing above it. The record found is kept on the user for the view.
_HOLDERS: dict[Who, Callable[[Any], object | None]] = {
    Who.WORKER: lambda user: getattr(user, "worker", None),
    Who.PROVIDER: lambda user: getattr(user, "provider_membership", None),
    Who.COORDINATOR: lambda user: getattr(user, "coordinator", None),
}
# ... and, for some roles, where the record hangs off the user (a select_related path whose
# first part is the reverse one-to-one name): the API's token look-up loads those records
# with the user in the same query (accounts.authentication), and ``find`` reads them there.
_RELATED: dict[Who, str] = {}


def access_holder_register(
    who: Who, find: Callable[[Any], object | None], *, related: str | None = None
) -> None:
    _HOLDERS[who] = find
    if related is not None:
        _RELATED[who] = related


def access_related(prefix: str = "") -> list[str]:
    """The select_related paths that load the registered roles' records with a user
    (``prefix`` names the user from another model, as ``"user__"`` from a token)."""
    return [prefix + path for path in _RELATED.values()]


def access_holder(user: Any, who: Who) -> Any:
    """The record that makes ``user`` hold ``who`` (a Worker, a ProviderMember, a
    Coordinator), or None. Looked up once per user object."""
    if not getattr(user, "is_authenticated", False) or who not in _HOLDERS:
        return None
    found: dict[Who, object | None] | None = getattr(user, "_access_holders", None)
    if found is None:
        found = {}
        user._access_holders = found
    if who not in found:
        found[who] = _HOLDERS[who](user)
    return found[who]


def holds(user: Any, who: Who) -> bool:
    if who is Who.PUBLIC:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return who is Who.SIGNED_IN or access_holder(user, who) is not None


def roles_of(user: Any) -> frozenset[Who]:
    """Every role a person holds."""
    return frozenset(who for who in Who if holds(user, who))


ORDER = list(Who)  # cheapest first; COORDINATOR last, since it may need the second factor


def access_decide(user: Any, allowed: Iterable[Who]) -> Decision:
    """The one rule, for pages and the API alike (see the module docstring)."""
    allowed = frozenset(allowed)
    for who in ORDER:
        if who in allowed and holds(user, who):
            if who is Who.COORDINATOR and not has_second_factor(user):
                return Decision.SECOND_FACTOR
            return Decision.ALLOW
    held = roles_of(user)
    if Who.SIGNED_IN not in held:
        return Decision.SIGN_IN
    if Who.WORKER in allowed and held == {Who.PUBLIC, Who.SIGNED_IN}:
        return Decision.APPLY
    return Decision.NOT_FOUND


def access_roles(view: object) -> frozenset[Who] | None:
    """The roles a view (a URL pattern's callback) was declared for, or None."""
    view = getattr(view, "view_class", view)
    roles = getattr(view, "access_roles", None)
    return frozenset(roles) if roles is not None else None


def _page_response(request: HttpRequest, decision: Decision) -> HttpResponse:
    if decision is Decision.SIGN_IN:
        return redirect_to_login(request.get_full_path())
    if decision is Decision.SECOND_FACTOR:
        return redirect("mfa_activate_totp")
    if decision is Decision.APPLY:
        return redirect("workers:apply")
    raise Http404


class AccessPermission(BasePermission):
    """The API side of ``allow``: the default permission class, so an endpoint that has
    not said whom it is for is refused."""

    message = "This endpoint has not said who may use it."

    def has_permission(self, request: Request, view: APIView) -> bool:
        roles = getattr(view, "access_roles", None)
        if roles is None:
            return False
        decision = access_decide(request.user, roles)
        if decision is Decision.ALLOW:
            return True
        if decision is Decision.SIGN_IN:
            raise exceptions.NotAuthenticated()
        if decision is Decision.SECOND_FACTOR:
            raise exceptions.PermissionDenied("Set up two-factor authentication first.")
        raise exceptions.NotFound()


V = TypeVar("V")


def allow(*roles: Who) -> Callable[[V], V]:
    """Declare whom a page (function view) or an API view (``APIView`` class) is for."""
    if not roles:
        raise ValueError("Name at least one role.")
    declared = frozenset(roles)

    def decorate(view: V) -> V:
        if isinstance(view, type):
            if not hasattr(view, "permission_classes"):
                raise TypeError("allow() decorates function views and APIView classes.")
            # The decision is the whole permission: no other class may widen or narrow it.
            view.access_roles = declared  # type: ignore[attr-defined]
            view.permission_classes = [AccessPermission]  # type: ignore[attr-defined]
            return view

        page: Callable[..., HttpResponse] = view  # type: ignore[assignment]

        @wraps(page)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            decision = access_decide(request.user, declared)
            if decision is not Decision.ALLOW:
                return _page_response(request, decision)
            return page(request, *args, **kwargs)

        wrapped.access_roles = declared  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate

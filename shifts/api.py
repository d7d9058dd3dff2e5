"""The /api/v1/ endpoints for roles, skills, sites, shifts, offers and bookings.

Thin: each view validates input, calls one service or selector and serialises the result.
Another organisation's (or another worker's) objects answer 404.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import Who, access_holder, allow
from accounts.models import User
from flexpool.input import SlugRelatedField, TextField
from flexpool.pagination import Pagination, page_response
from pools.models import Role, Skill
from providers.models import Provider, Site
from shifts import selectors
from shifts.exceptions import OfferUnavailable
from shifts.models import Booking, Offer, ShiftRequest, hours_between
from shifts.services.lifecycle import booking_cancel, shift_cancel
from shifts.services.offers import offer_accept, offer_decline
from shifts.services.posting import shift_post
from workers.models import Worker

ConflictSerializer = inline_serializer(
    "Conflict", {"detail": serializers.CharField(), "code": serializers.CharField()}
)


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _provider(request: Request) -> Provider:
    provider = selectors.provider_for_user(user=_user(request))
    if provider is None:
        raise PermissionDenied("Only a provider's members can do this.")
    return provider


def _worker(request: Request) -> Worker:
    worker = selectors.worker_for_user(user=_user(request))
    if worker is None:
        raise PermissionDenied("Only workers can do this.")
    return worker


# Beyond the fingerprint (offers, their shifts' times, urgency and notes) a listed offer
# shows names (provider, site, role, skills) that change rarely: at most this stale.
OFFER_LIST_KEEP_SECONDS = 300


def _cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage costs time, never the answer
        return None


def _cache_set(key: str, value: Any, seconds: int) -> None:
    with contextlib.suppress(Exception):  # a cache outage: the next request builds it again
        cache.set(key, value, seconds)


def _bad_request(exc: DjangoValidationError) -> Response:
    if hasattr(exc, "error_dict"):
        return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
    return Response({"non_field_errors": exc.messages}, status=status.HTTP_400_BAD_REQUEST)


class SlugNameSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


@allow(Who.SIGNED_IN)
class RoleListApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses={200: SlugNameSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return page_response(
            view=self,
            request=request,
            queryset=Role.objects.order_by("name", "pk"),
            serialize=lambda rows: SlugNameSerializer(rows, many=True).data,
        )


@allow(Who.SIGNED_IN)
class SkillListApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses={200: SlugNameSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return page_response(
            view=self,
            request=request,
            queryset=Skill.objects.order_by("name", "pk"),
            serialize=lambda rows: SlugNameSerializer(rows, many=True).data,
        )


@allow(Who.PROVIDER)
class SiteListApi(APIView):
    pagination_class = Pagination

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Site"

        id = serializers.IntegerField()
        name = serializers.CharField()
        site_type = serializers.CharField()
        address = serializers.CharField()
        postcode = serializers.CharField()
        cqc_location_id = serializers.CharField()

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return page_response(
            view=self,
            request=request,
            queryset=Site.objects.filter(provider=_provider(request)).order_by("name", "pk"),
            serialize=lambda rows: self.OutputSerializer(rows, many=True).data,
        )


class BookedWorkerSerializer(serializers.Serializer):
    booking = serializers.IntegerField(source="pk")
    worker = serializers.IntegerField(source="worker_id")
    name = serializers.CharField(source="worker.display_name")
    status = serializers.CharField()


class ShiftOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    site = serializers.IntegerField(source="site_id")
    site_name = serializers.CharField(source="site.name")
    role = serializers.SlugField(source="role.slug")
    skills = serializers.SerializerMethodField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    headcount = serializers.IntegerField()
    filled_count = serializers.IntegerField(source="booked_count")
    offers_sent = serializers.IntegerField()
    agency_hourly_rate = serializers.DecimalField(max_digits=8, decimal_places=2)
    notes = serializers.CharField()
    is_critical = serializers.BooleanField()
    posted_at = serializers.DateTimeField()
    booked_workers = BookedWorkerSerializer(source="live_bookings", many=True)

    def get_skills(self, shift: ShiftRequest) -> list[str]:
        return sorted(s.slug for s in shift.skills.all())


def _shift_out(provider: Provider, shift_id: int) -> dict[str, Any]:
    shift = get_object_or_404(selectors.shifts_for_provider(provider=provider), pk=shift_id)
    return dict(ShiftOutputSerializer(shift).data)


@allow(Who.PROVIDER)
class ShiftListCreateApi(APIView):
    pagination_class = Pagination

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ShiftCreate"

        site = serializers.IntegerField()
        role = SlugRelatedField(slug_field="slug", queryset=Role.objects.all())
        skills = SlugRelatedField(
            slug_field="slug", queryset=Skill.objects.all(), many=True, required=False
        )
        start = serializers.DateTimeField()
        end = serializers.DateTimeField()
        headcount = serializers.IntegerField(min_value=1, max_value=50)
        agency_hourly_rate = serializers.DecimalField(
            max_digits=8, decimal_places=2, min_value=0, required=False, allow_null=True
        )
        notes = TextField(multiline=True, required=False, allow_blank=True, max_length=2000)

    @extend_schema(responses={200: ShiftOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return page_response(
            view=self,
            request=request,
            queryset=selectors.shifts_for_provider(provider=_provider(request)),
            serialize=lambda rows: ShiftOutputSerializer(rows, many=True).data,
        )

    @extend_schema(request=InputSerializer, responses={201: ShiftOutputSerializer})
    def post(self, request: Request) -> Response:
        provider = _provider(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        site = Site.objects.filter(pk=values["site"], provider=provider).first()
        if site is None:
            return Response(
                {"site": ["Choose one of your own sites."]}, status=status.HTTP_400_BAD_REQUEST
            )
        try:
            shift = shift_post(
                provider=provider,
                site=site,
                role=values["role"],
                skills=values.get("skills", []),
                start=values["start"],
                end=values["end"],
                headcount=values["headcount"],
                agency_hourly_rate=values.get("agency_hourly_rate"),
                notes=values.get("notes", ""),
                created_by=_user(request),
            )
        except DjangoValidationError as exc:
            return _bad_request(exc)
        return Response(_shift_out(provider, shift.pk), status=status.HTTP_201_CREATED)


@allow(Who.PROVIDER)
class ShiftDetailApi(APIView):
    @extend_schema(responses={200: ShiftOutputSerializer})
    def get(self, request: Request, shift_id: int) -> Response:
        return Response(_shift_out(_provider(request), shift_id))


@allow(Who.PROVIDER)
class ShiftCancelApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ShiftCancel"

        reason = TextField(required=False, allow_blank=True, max_length=200)

    @extend_schema(request=InputSerializer, responses={200: ShiftOutputSerializer})
    def post(self, request: Request, shift_id: int) -> Response:
        provider = _provider(request)
        shift = get_object_or_404(ShiftRequest, pk=shift_id, provider=provider)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            shift_cancel(
                shift=shift, by=_user(request), reason=data.validated_data.get("reason", "")
            )
        except DjangoValidationError as exc:
            return _bad_request(exc)
        return Response(_shift_out(provider, shift.pk))


class OfferShiftSerializer(serializers.Serializer):
    """The shift as a worker sees it while it is only offered: the site's name, district
    and distance, never its street address or full postcode (those come with a live
    booking, ``BookingOutputSerializer``)."""

    id = serializers.IntegerField()
    provider = serializers.CharField(source="provider.name")
    site_name = serializers.CharField(source="site.name")
    site_district = serializers.CharField(source="site.district")
    site_type = serializers.CharField(source="site.site_type")
    role = serializers.SlugField(source="role.slug")
    skills = serializers.SerializerMethodField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    hours = serializers.DecimalField(max_digits=5, decimal_places=2)
    notes = serializers.CharField()

    def get_skills(self, shift: ShiftRequest) -> list[str]:
        return sorted(s.slug for s in shift.skills.all())


class OfferOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    wave = serializers.IntegerField()
    sent_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    distance_km = serializers.DecimalField(max_digits=6, decimal_places=1)
    reasons = serializers.ListField(child=serializers.CharField())
    shift = OfferShiftSerializer()


def offers_output(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``OfferOutputSerializer``'s output for offers read as values (``offers_listed``):
    the same keys in the same order, each value formatted by that serializer's own field
    (times in London with their offset, decimals as strings). A page of fifty built through
    the serializer cost about 5 ms of CPU in its fields' look-ups; a test holds the two to
    the same bytes."""
    fields = _offer_fields()
    shift_fields = fields["shift"].fields  # type: ignore[attr-defined]
    when, distance, hours = fields["sent_at"], fields["distance_km"], shift_fields["hours"]
    listed = []
    for row in rows:
        start, end = row["shift__start"], row["shift__end"]
        listed.append(
            {
                "id": row["id"],
                "status": str(row["status"]),
                "wave": row["wave"],
                "sent_at": when.to_representation(row["sent_at"]),
                "expires_at": when.to_representation(row["expires_at"]),
                "distance_km": distance.to_representation(row["distance_km"]),
                "reasons": [str(reason) for reason in row["reasons"]],
                "shift": {
                    "id": row["shift_id"],
                    "provider": str(row["shift__provider__name"]),
                    "site_name": str(row["shift__site__name"]),
                    "site_district": str(row["shift__site__district"]),
                    "site_type": str(row["shift__site__site_type"]),
                    "role": str(row["shift__role__slug"]),
                    "skills": sorted(row["skills"]),
                    "start": when.to_representation(start),
                    "end": when.to_representation(end),
                    "hours": hours.to_representation(hours_between(start, end)),
                    "notes": str(row["shift__notes"]),
                },
            }
        )
    return listed


@lru_cache(maxsize=1)
def _offer_fields() -> Any:
    return OfferOutputSerializer().fields


class BookingOutputSerializer(serializers.Serializer):
    """A worker's booking. The site's address and postcode are given only while the booking
    is live (booked or attended); once cancelled they are null."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    booked_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancelled_by = serializers.CharField()
    late_cancellation = serializers.BooleanField()
    shift = serializers.IntegerField(source="shift_id")
    site_name = serializers.CharField(source="shift.site.name")
    role = serializers.SlugField(source="shift.role.slug")
    provider = serializers.CharField(source="shift.provider.name")
    site_address = serializers.SerializerMethodField()
    site_postcode = serializers.SerializerMethodField()

    def get_site_address(self, booking: Booking) -> str | None:
        return booking.shift.site.address if booking.is_live else None

    def get_site_postcode(self, booking: Booking) -> str | None:
        return booking.shift.site.postcode if booking.is_live else None


def _own_offer(request: Request, offer_id: int) -> tuple[Worker, Offer]:
    worker = selectors.worker_for_user(user=_user(request))
    if worker is None:
        raise NotFound()
    offer = get_object_or_404(selectors.offers_for_worker(worker=worker), pk=offer_id)
    return worker, offer


@allow(Who.WORKER)
class OfferListApi(APIView):
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "If-None-Match",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="The ETag of the page the client has.",
            )
        ],
        responses={
            200: OfferOutputSerializer(many=True),
            304: OpenApiResponse(description="Not modified: the page is as the ETag says."),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        worker = access_holder(request.user, Who.WORKER)  # found once, by allow() above
        assert isinstance(worker, Worker)
        # A phone polling its offers mostly finds nothing new: it sends the ETag it has
        # and gets 304 from one small query, before any offer is loaded or serialised.
        # Each page has its own ETag (the fingerprint and the page's limit and offset).
        paginator = self.pagination_class()
        version = selectors.offers_for_worker_version(worker=worker)
        etag = f'"{version}-{paginator.page_key(request)}"'
        if get_conditional_response(request, etag=etag) is not None:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})

        def page() -> Any:
            # The page is cut from the offers alone, then its fifty are read with their
            # shifts (``offer_ids_for_worker``, ``offers_listed``).
            cut = paginator.paginate_queryset(
                selectors.offer_ids_for_worker(worker=worker).only("pk"), request, view=self
            )
            listed = selectors.offers_listed([offer.pk for offer in cut or []])
            return paginator.get_paginated_response(offers_output(listed)).data

        renderer = request.accepted_renderer
        if not isinstance(renderer, JSONRenderer):  # the browsable API: built each time
            response = Response(page())
            response["ETag"] = etag
            return response
        # The page as of this fingerprint is kept a few minutes, rendered as JSON, so a
        # client that does not send If-None-Match still costs one query and no
        # serialising while nothing changes. (Its next and previous links name the host.)
        key = f"api-offers-json:{worker.pk}:{etag}:{request.get_host()}"
        body = _cache_get(key)
        if not isinstance(body, bytes):
            body = renderer.render(page(), request.accepted_media_type)
            _cache_set(key, body, OFFER_LIST_KEEP_SECONDS)
        return HttpResponse(body, content_type=renderer.media_type, headers={"ETag": etag})


@allow(Who.WORKER)
class OfferAcceptApi(APIView):
    @extend_schema(request=None, responses={200: BookingOutputSerializer, 409: ConflictSerializer})
    def post(self, request: Request, offer_id: int) -> Response:
        worker, offer = _own_offer(request, offer_id)
        try:
            booking = offer_accept(offer=offer, worker=worker)
        except OfferUnavailable as exc:
            return Response(
                {"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT
            )
        booking = selectors.bookings_for_worker(worker=worker).get(pk=booking.pk)
        return Response(BookingOutputSerializer(booking).data)


@allow(Who.WORKER)
class OfferDeclineApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OfferDecline"

        reason = TextField(required=False, allow_blank=True, max_length=200)

    @extend_schema(
        request=InputSerializer, responses={200: OfferOutputSerializer, 409: ConflictSerializer}
    )
    def post(self, request: Request, offer_id: int) -> Response:
        worker, offer = _own_offer(request, offer_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            offer_decline(offer=offer, worker=worker, reason=data.validated_data.get("reason", ""))
        except OfferUnavailable as exc:
            return Response(
                {"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT
            )
        offer = selectors.offers_for_worker(worker=worker).get(pk=offer.pk)
        return Response(OfferOutputSerializer(offer).data)


@allow(Who.WORKER)
class BookingListApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses={200: BookingOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return page_response(
            view=self,
            request=request,
            queryset=selectors.bookings_for_worker(worker=_worker(request)),
            serialize=lambda rows: BookingOutputSerializer(rows, many=True).data,
        )


@allow(Who.WORKER, Who.PROVIDER)
class BookingCancelApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "BookingCancel"

        reason = TextField(multiline=True, required=False, allow_blank=True, max_length=200)

    @extend_schema(request=InputSerializer, responses={200: BookingOutputSerializer})
    def post(self, request: Request, booking_id: int) -> Response:
        user = _user(request)
        booking = get_object_or_404(selectors.bookings_visible_to(user=user), pk=booking_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            booking_cancel(booking=booking, by=user, reason=data.validated_data.get("reason", ""))
        except DjangoValidationError as exc:
            return _bad_request(exc)
        except DjangoPermissionDenied as exc:
            raise NotFound() from exc
        booking = Booking.objects.select_related(
            "shift__site", "shift__role", "shift__provider"
        ).get(pk=booking.pk)
        return Response(BookingOutputSerializer(booking).data)

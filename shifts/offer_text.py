"""What an offer says to the worker, in one place: the message (text, e-mail, push) names
the same things as the card and the offer page — the site's name, the type of care, the
role and skills, how far and how long to get there, the pay and when to answer by —
and never the street address, which the worker sees only once booked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, cast

from django.urls import reverse
from django.utils import timezone

from notifications.services import Message
from pools.models import RoleRate
from shifts.models import Offer, ShiftRequest

KM_PER_MILE = Decimal("1.609344")
# A rough door-to-door pace for an estimate, by road in a town: 20 mph.
TRAVEL_MINUTES_PER_KM = Decimal("1.86")


def distance_text(km: Decimal | float | None, unit: str = "mi") -> str:
    """``3.2 miles`` or ``5.1 km`` (the pool's choice; miles by default)."""
    if km is None:
        return ""
    km = Decimal(str(km))
    if unit == "km":
        return f"{km.quantize(Decimal('0.1'))} km"
    miles = (km / KM_PER_MILE).quantize(Decimal("0.1"))
    return f"{miles} mile{'' if miles == 1 else 's'}"


def travel_minutes(km: Decimal | float | None) -> int | None:
    """An estimate of the journey, rounded up to 5 minutes (at least 5)."""
    if km is None:
        return None
    minutes = float(Decimal(str(km)) * TRAVEL_MINUTES_PER_KM)
    return max(5, int(-(-minutes // 5) * 5))


def day_text(moment: object) -> str:
    local = timezone.localtime(moment)  # type: ignore[arg-type]
    return f"{local:%a} {local.day} {local:%b}"


@dataclass(frozen=True)
class OfferFacts:
    """The facts about one offer that every place showing it names."""

    site_name: str
    care_type: str
    role: str
    skills: list[str]
    day: str
    times: str
    hours: str
    distance: str
    travel: str
    pay: str
    hourly_pay: str
    answer_by: str

    def summary(self) -> str:
        """One paragraph for a text message or a notification."""
        parts = [
            f"{self.role}, {self.day} {self.times} at {self.site_name} ({self.care_type})",
        ]
        if self.distance:
            parts.append(f"{self.distance} from you, about {self.travel}")
        if self.pay:
            parts.append(f"{self.pay} ({self.hourly_pay} an hour)")
        if self.skills:
            parts.append("skills: " + ", ".join(self.skills))
        return "; ".join(parts) + f". Answer by {self.answer_by}."


def offer_facts(
    offer: NewOffer, *, hourly_pay: Decimal | None, skills: list[str], unit: str = "mi"
) -> OfferFacts:
    shift = offer.shift
    start, end = timezone.localtime(shift.start), timezone.localtime(shift.end)
    expires = timezone.localtime(offer.expires_at)
    pay = (hourly_pay * shift.hours).quantize(Decimal("0.01")) if hourly_pay is not None else None
    minutes = travel_minutes(offer.distance_km)
    return OfferFacts(
        site_name=shift.site.name,
        care_type="home care" if shift.site.site_type == "non_residential" else "care home",
        role=shift.role.name,
        skills=skills,
        day=day_text(start),
        times=f"{start:%H:%M}–{end:%H:%M}",
        hours=f"{shift.hours.normalize():f}",
        distance=distance_text(offer.distance_km, unit),
        travel=f"{minutes} min" if minutes is not None else "",
        pay=f"£{pay}" if pay is not None else "",
        hourly_pay=f"£{hourly_pay}" if hourly_pay is not None else "",
        answer_by=f"{day_text(expires)}, {expires:%H:%M}",
    )


def offer_messages(offer_ids: Iterable[int]) -> list[Message]:
    """The notification for each new offer (workers without a sign-in get none)."""
    offers = list(
        Offer.objects.filter(pk__in=list(offer_ids), worker__user__isnull=False)
        .select_related("worker", "shift__site", "shift__role", "shift__pool")
        .prefetch_related("shift__skills")
        .order_by("pk")
    )
    skills = {o.shift_id: sorted(s.name for s in o.shift.skills.all()) for o in offers}
    return offer_messages_for(offers, skills=skills)


class NewOffer(Protocol):
    """What ``offer_messages_for`` reads of an offer: an ``Offer``, or a wave's new offer as
    ``shift_match_wave`` holds it (``waves.NewOffer``), without a model instance each."""

    @property
    def pk(self) -> Any: ...
    @property
    def worker_id(self) -> Any: ...
    @property
    def shift(self) -> ShiftRequest: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def distance_km(self) -> Decimal | None: ...


def offer_messages_for(
    offers: Sequence[NewOffer],
    *,
    skills: dict[int, list[str]],
    rates: dict[tuple[int, int], Decimal] | None = None,
    user_ids: Mapping[int, int | None] | None = None,
) -> list[Message]:
    """``offer_messages`` for offers already at hand, each with its shift (site, role and
    pool loaded) and its worker's ``user_id`` (those without one get none), or their
    workers' user ids in ``user_ids`` (worker id -> user id); ``skills`` are each shift's
    skill names. One query, for the pay rates, unless ``rates`` (pool and role -> the
    pool's hourly cost) are given."""
    users = (
        user_ids
        if user_ids is not None
        else {o.worker_id: cast(Offer, o).worker.user_id for o in offers}
    )
    offers = [o for o in offers if users.get(o.worker_id) is not None]
    if not offers:
        return []
    if rates is None:
        rates = {
            (pool_id, role_id): cost
            for pool_id, role_id, cost in RoleRate.objects.filter(
                pool_id__in={o.shift.pool_id for o in offers}
            ).values_list("pool_id", "role_id", "pool_hourly_cost")
        }
    messages = []
    # What every offer of a shift sent at the same moment says alike is worded once; only
    # the distance differs (``_at_distance``), and offers at the same distance (to a tenth of
    # a kilometre: an urgent wave's hundreds share a few dozen) say the same. The link is
    # reversed once, too.
    worded: dict[tuple[int, datetime], OfferFacts] = {}
    said: dict[tuple[int, datetime, Decimal | None], tuple[str, str]] = {}
    url = reverse("workers:offer", kwargs={"pk": _URL_PK})
    for offer in offers:
        shift = offer.shift
        key = (shift.pk, offer.expires_at, offer.distance_km)
        text = said.get(key)
        if text is None:
            unit = shift.pool.distance_unit
            same = worded.get((shift.pk, offer.expires_at))
            if same is None:
                facts = worded[(shift.pk, offer.expires_at)] = offer_facts(
                    offer,
                    hourly_pay=rates.get((shift.pool_id, shift.role_id)),
                    skills=skills.get(shift.pk, []),
                    unit=unit,
                )
            else:
                facts = _at_distance(same, offer.distance_km, unit)
            text = said[key] = (
                f"Shift offer: {facts.role} at {facts.site_name}",
                facts.summary(),
            )
        user_id = users[offer.worker_id]
        assert user_id is not None
        messages.append(
            Message(
                user_id=user_id,
                kind="offer",
                subject=text[0],
                body=text[1],
                url=url.replace(str(_URL_PK), str(offer.pk)),
                offer_id=offer.pk,
            )
        )
    return messages


# An id no offer has, reversed once and replaced by each offer's.
_URL_PK = 987654321987


def _at_distance(facts: OfferFacts, km: Decimal | float | None, unit: str) -> OfferFacts:
    """``facts`` as ``offer_facts`` words them for an offer at ``km`` instead."""
    minutes = travel_minutes(km)
    return replace(
        facts,
        distance=distance_text(km, unit),
        travel=f"{minutes} min" if minutes is not None else "",
    )

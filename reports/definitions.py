"""The one registry of what every reported figure means, with versions.

Each figure has one ``Definition``: its name, its meaning in plain words (the appendix of
every committee report and the dashboards' "How these figures are defined") and, for the
workforce figures, the function that computes it from the submitted returns. A set of
definitions has a version number; a committee report states the version it used and a
published one stores its figures. Changing what a figure means is a new entry in
``VERSIONS`` (copy the last, change the definition), never an edit of an old one: old
reports then still reproduce exactly with ``figures_compute(..., version=old)``.

The dashboards' figures (fill rate, time to fill, agency hours and spend avoided, the pool's
own cost) are computed over shifts by reports.metrics (live) and reports.rollups (the same
sums pre-added); their definitions are here, and ``dashboard_value`` reads them off a
``Figures`` so the committee report and the API take them from one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any, NamedTuple

RATIO = Decimal("0.0001")


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part ÷ whole to four decimal places (half up); None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATIO, ROUND_HALF_UP)


# --- What the workforce figures are computed from --------------------------------------------


class Line(NamedTuple):
    """One role's headcounts in one provider's return (a tuple: thousands load fast)."""

    role_id: int
    headcount_start: int = 0
    posts: int = 0
    filled: int = 0
    starters: int = 0
    leavers: int = 0
    leavers_to_care: int = 0
    zero_hours: int = 0
    zero_hours_by_choice: int = 0
    qualified_level2: int = 0
    qualified_level3: int = 0


@dataclass(frozen=True)
class Return:
    """One provider's submitted return for one quarter (money in pence)."""

    provider_id: int
    quarter: str
    lines: tuple[Line, ...] = ()
    hours_worked: Decimal = Decimal("0")
    agency_hours: Decimal = Decimal("0")
    agency_spend_pence: int = 0
    lowest_hourly_pay_pence: int | None = None
    # False when the figures are of one role only: provider-wide figures are then not known.
    whole_provider: bool = True


@dataclass(frozen=True)
class Data:
    """Everything a figure for one quarter may read: the returns of the quarter, each
    provider's returns for the year to it (for the 12-month leaver rate), how many providers
    were asked, and the Real Living Wage of the quarter's year (pence an hour)."""

    returns: tuple[Return, ...]
    year_returns: dict[int, tuple[Return, ...]] = field(default_factory=dict)
    expected: int = 0
    living_wage_pence: int | None = None

    @cached_property
    def totals(self) -> dict[str, int]:
        """Each headcount field summed over every line, in one pass."""
        sums = [0] * len(Line._fields)
        for r in self.returns:
            for line in r.lines:
                for i, value in enumerate(line):
                    sums[i] += value
        return dict(zip(Line._fields, sums, strict=True))


def _sum(data: Data, name: str) -> int:
    return data.totals[name]


def _whole(data: Data) -> list[Return]:
    return [r for r in data.returns if r.whole_provider]


# --- Version 1 of the workforce figures ------------------------------------------------------


def vacancy_rate_v1(data: Data) -> Decimal | None:
    return ratio(_sum(data, "posts") - _sum(data, "filled"), _sum(data, "posts"))


def leaver_rate_v1(data: Data) -> Decimal | None:
    """Per provider: leavers over the four quarters to this one, scaled up to a year from
    the quarters it returned (a provider that joined mid-year or missed a return is counted
    from what it did return), divided by its filled posts at the quarter's end."""
    leavers = Decimal(0)
    staff = 0
    for r in data.returns:
        year = data.year_returns.get(r.provider_id, (r,))
        roles = {line.role_id for line in r.lines}
        counted = sum(line.leavers for y in year for line in y.lines if line.role_id in roles)
        leavers += Decimal(counted) * 4 / len(year)
        staff += sum(line.filled for line in r.lines)
    if not staff:
        return None
    return ratio(leavers, staff)


def starters_v1(data: Data) -> int:
    return _sum(data, "starters")


def agency_hours_v1(data: Data) -> Decimal | None:
    whole = _whole(data)
    return sum((r.agency_hours for r in whole), Decimal("0")) if whole else None


def agency_spend_v1(data: Data) -> Decimal | None:
    whole = _whole(data)
    if not whole:
        return None
    return (Decimal(sum(r.agency_spend_pence for r in whole)) / 100).quantize(Decimal("0.01"))


def agency_reliance_v1(data: Data) -> Decimal | None:
    whole = _whole(data)
    return ratio(
        sum((r.agency_hours for r in whole), Decimal("0")),
        sum((r.hours_worked for r in whole), Decimal("0")),
    )


def zero_hours_share_v1(data: Data) -> Decimal | None:
    return ratio(_sum(data, "zero_hours"), _sum(data, "filled"))


def zero_hours_by_choice_share_v1(data: Data) -> Decimal | None:
    return ratio(_sum(data, "zero_hours_by_choice"), _sum(data, "zero_hours"))


def qualification_share_v1(data: Data) -> Decimal | None:
    return ratio(
        _sum(data, "qualified_level2") + _sum(data, "qualified_level3"), _sum(data, "filled")
    )


def living_wage_share_v1(data: Data) -> Decimal | None:
    if data.living_wage_pence is None:
        return None
    paid = [r.lowest_hourly_pay_pence for r in _whole(data) if r.lowest_hourly_pay_pence]
    return ratio(sum(1 for p in paid if p >= data.living_wage_pence), len(paid))


def return_rate_v1(data: Data) -> Decimal | None:
    return ratio(len({r.provider_id for r in data.returns}), data.expected)


# --- The registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    meaning: str
    unit: str  # "ratio", "count", "hours", "pounds", "minutes"
    compute: Callable[[Data], Any] | None = None  # None: a dashboard figure (shifts)


WORKFORCE_V1 = [
    Definition(
        "vacancy_rate",
        "Vacancy rate",
        "Vacant posts ÷ posts, in headcount, over the providers that returned for the "
        "quarter. Vacant posts = posts − filled posts at the quarter's end.",
        "ratio",
        vacancy_rate_v1,
    ),
    Definition(
        "leaver_rate",
        "Leaver rate (12 months)",
        "Leavers in the four quarters to this one ÷ filled posts at the quarter's end, over "
        "the providers that returned for the quarter. A provider's leavers are scaled up to "
        "a year from the quarters it returned (joined mid-year or missed a return).",
        "ratio",
        leaver_rate_v1,
    ),
    Definition(
        "starters",
        "Starters",
        "People who started in the quarter, over the providers that returned.",
        "count",
        starters_v1,
    ),
    Definition(
        "agency_hours",
        "Agency hours",
        "Hours worked by agency staff in the quarter, as providers returned them.",
        "hours",
        agency_hours_v1,
    ),
    Definition(
        "agency_spend",
        "Agency spend (£)",
        "What providers paid agencies in the quarter, as returned.",
        "pounds",
        agency_spend_v1,
    ),
    Definition(
        "agency_reliance",
        "Agency reliance",
        "Agency hours ÷ all hours worked in care roles (agency included) in the quarter.",
        "ratio",
        agency_reliance_v1,
    ),
    Definition(
        "zero_hours_share",
        "Staff on zero-hours contracts",
        "Staff on zero-hours contracts ÷ filled posts (headcount).",
        "ratio",
        zero_hours_share_v1,
    ),
    Definition(
        "zero_hours_by_choice_share",
        "Zero-hours by the worker's choice",
        "Of the staff on zero-hours contracts, the share on one by their own choice, with "
        "evidence the provider names.",
        "ratio",
        zero_hours_by_choice_share_v1,
    ),
    Definition(
        "qualification_share",
        "Holding a care qualification",
        "Staff holding a relevant care qualification at level 2 or level 3 and above ÷ "
        "filled posts (headcount).",
        "ratio",
        qualification_share_v1,
    ),
    Definition(
        "living_wage_share",
        "Paying the Real Living Wage",
        "Providers whose lowest hourly pay rate is at least the Real Living Wage for the "
        "quarter's year (set by the pool) ÷ providers that gave their lowest rate.",
        "ratio",
        living_wage_share_v1,
    ),
    Definition(
        "return_rate",
        "Return rate",
        "Providers that submitted a return for the quarter ÷ providers in the pool by the "
        "quarter's end.",
        "ratio",
        return_rate_v1,
    ),
]

DASHBOARD_V1 = [
    Definition(
        "shifts_counted",
        "Which shifts count",
        "A shift request counts in a date range when it starts (UK time) on a day in the "
        "range, inclusive at both ends: a night shift starting on the last day counts in full.",
        "count",
    ),
    Definition(
        "requested",
        "Requested",
        "Shift requests the provider did not withdraw. Hours requested = places × shift length.",
        "count",
    ),
    Definition(
        "filled",
        "Filled",
        "Places booked by the pool and not cancelled. A no-show frees the place again. "
        "A shift is filled when all its places are. Hours filled = filled places × shift length.",
        "count",
    ),
    Definition(
        "fill_rate", "Fill rate", "Filled ÷ requested, in whole shifts and in hours.", "ratio"
    ),
    Definition(
        "time_to_fill",
        "Time to fill",
        "From the request being posted to its last place being booked, over filled shifts.",
        "minutes",
    ),
    Definition(
        "unfilled",
        "Unfilled",
        "Places requested minus places filled. 'Went to agency' is the unfilled places of "
        "requests the provider marked as covered by an agency. Shifts not yet started may "
        "still fill.",
        "count",
    ),
    Definition(
        "agency_avoided",
        "Agency hours and spend avoided",
        "Agency hours avoided = hours filled. Spend avoided = Σ filled places × shift length × "
        "the agency hourly rate on the request (the provider's rate, or the pool's benchmark "
        "rate for the role).",
        "pounds",
    ),
    Definition(
        "pool_cost",
        "Pool's own cost",
        "Σ filled places × shift length × the pool's hourly cost for the role.",
        "pounds",
    ),
]

# Version → every definition in force. Add a version; never edit one that has been used.
VERSIONS: dict[int, list[Definition]] = {1: [*WORKFORCE_V1, *DASHBOARD_V1]}


def current_version() -> int:
    return max(VERSIONS)


def definitions(version: int | None = None) -> dict[str, Definition]:
    """The definitions of ``version`` (the current one by default), by key."""
    chosen = current_version() if version is None else version
    if chosen not in VERSIONS:
        raise KeyError(f"No definitions version {chosen}.")
    return {d.key: d for d in VERSIONS[chosen]}


def workforce_definitions(version: int | None = None) -> list[Definition]:
    return [d for d in definitions(version).values() if d.compute is not None]


def dashboard_definitions(version: int | None = None) -> list[tuple[str, str]]:
    """(name, meaning) of the shift figures, as the dashboards list them."""
    return [(d.name, d.meaning) for d in definitions(version).values() if d.compute is None]


def figures_compute(data: Data, *, version: int | None = None) -> dict[str, Any]:
    """Every workforce figure of ``version`` over ``data``, by key."""
    return {d.key: d.compute(data) for d in workforce_definitions(version) if d.compute}


def dashboard_value(figures: Any, key: str) -> Any:
    """A dashboard figure read off reports.metrics.Figures, by the name the API uses."""
    return {
        "shifts_requested": figures.shifts_requested,
        "shifts_filled": figures.shifts_filled,
        "fill_rate": figures.fill_rate,
        "hours_fill_rate": figures.hours_fill_rate,
        "median_time_to_fill_minutes": figures.median_ttf_minutes,
        "agency_hours_avoided": figures.agency_hours_avoided,
        "agency_spend_avoided": figures.spend_avoided,
        "pool_cost": figures.pool_cost,
        "net_saving": figures.saving,
    }[key]

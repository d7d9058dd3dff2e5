"""Six quarters of workforce returns for the demo borough that tell Bury's story: the vacancy
rate falling from about 12.9 % to 8.5 %, the 12-month leaver rate from about 44 % to 27 %,
agency hours falling, with some providers returning late and some not at all. Called by
``pools.demo.demo_borough_build``; deterministic for a seed."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef

from pools.models import Pool, Role
from providers.models import Provider, Site
from reports.models import (
    Benchmark,
    CommitteeReport,
    LivingWageRate,
    ReturnLine,
    WorkforceReturn,
)
from reports.quarters import Quarter, quarter_to_return

LONDON = ZoneInfo("Europe/London")
QUARTERS = 6
VACANCY = [0.129, 0.120, 0.111, 0.103, 0.094, 0.085]
# Leavers in each quarter, as a yearly rate: the rolling four quarters fall from 44 % to 27 %.
LEAVING = [0.44, 0.40, 0.35, 0.30, 0.25, 0.19]
AGENCY_SHARE = [0.065, 0.058, 0.050, 0.041, 0.033, 0.026]
ZERO_HOURS = [0.22, 0.21, 0.20, 0.19, 0.18, 0.17]
QUALIFIED = [0.44, 0.45, 0.47, 0.49, 0.50, 0.52]
LIVING_WAGE = {2023: 1200, 2024: 1260, 2025: 1345, 2026: 1360, 2027: 1400}
STAFF = {"small": (12, 45), "medium": (60, 180), "large": (260, 380)}
RESIDENTIAL_ROLES = [("care-worker", 0.55), ("senior-carer", 0.25), ("nurse", 0.12),
                     ("support-worker", 0.08)]  # fmt: skip
HOME_CARE_ROLES = [("care-worker", 0.45), ("support-worker", 0.45), ("senior-carer", 0.10)]


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def workforce_demo_build(*, pool: Pool, seed: int, today: date, quarters: int = QUARTERS) -> int:
    """Write the demo returns (replacing any), the Real Living Wage by year and a few
    benchmark figures marked as illustrative. Returns the number of returns written."""
    rng = random.Random(seed * 7919 + 14)
    last = quarter_to_return(today)
    shown = last.last(quarters)
    # The story's curve spans the last six quarters; earlier ones repeat its start.
    curve = [max(0, i - (quarters - QUARTERS)) for i in range(quarters)]
    WorkforceReturn.objects.filter(pool=pool).delete()
    CommitteeReport.objects.filter(pool=pool).delete()
    for year, pence in LIVING_WAGE.items():
        LivingWageRate.objects.update_or_create(
            pool=pool, year=year, defaults={"hourly_pence": pence}
        )
    # The demo's providers were all in the pool before the first quarter shown.
    Provider.objects.filter(pool=pool, created_at__gte=_at(shown[0].start, 0)).update(
        created_at=_at(shown[0].start - timedelta(days=30), 9)
    )
    roles = {r.slug: r for r in Role.objects.all()}
    care_home = Site.objects.filter(provider=OuterRef("pk"), site_type=Site.SiteType.RESIDENTIAL)
    providers = list(
        Provider.objects.filter(pool=pool, is_active=True)
        .annotate(residential=Exists(care_home))
        .order_by("pk")
    )
    returns: list[WorkforceReturn] = []
    lines: list[tuple[int, ReturnLine]] = []
    staff_now: dict[tuple[int, str], int] = {}
    for provider in providers:
        low, high = STAFF.get(provider.size, STAFF["small"])
        size = rng.randint(low, high)
        mix = RESIDENTIAL_ROLES if provider.residential else HOME_CARE_ROLES
        for slug, share in mix:
            staff_now[(provider.pk, slug)] = max(1, round(size * share))
        pay_floor = rng.choice([1190, 1230, 1250, 1280, 1300])
        never_returns = rng.random() < 0.06
        for i, quarter in zip(curve, shown, strict=True):
            current = quarter == last
            chance = 0.62 if current and today <= quarter.due else 0.86
            if never_returns or rng.random() > chance:
                if current and rng.random() < 0.5:
                    returns.append(_draft(pool, provider, quarter))
                continue
            late = (not current or today > quarter.due) and rng.random() < 0.12
            submitted = (
                quarter.due + timedelta(days=rng.randint(3, 30))
                if late
                else (quarter.end + timedelta(days=rng.randint(2, 27)))
            )
            if submitted > today:
                submitted = today
            pay_floor += rng.choice([0, 20, 40, 60])
            r = WorkforceReturn(
                pool=pool,
                provider=provider,
                quarter=str(quarter),
                status=WorkforceReturn.Status.SUBMITTED,
                submitted_at=_at(submitted, rng.randint(9, 17)),
                lowest_hourly_pay_pence=pay_floor,
                sickness_days=Decimal(rng.randint(size // 2, size * 2)),
                zero_hours_evidence=WorkforceReturn.Evidence.WRITTEN_REQUEST,
            )
            total_filled = 0
            for slug, _share in mix:
                filled_before = staff_now[(provider.pk, slug)]
                leavers = _noisy(rng, filled_before * LEAVING[i] / 4)
                leavers = min(leavers, filled_before)
                filled = max(
                    1,
                    filled_before - leavers + _noisy(rng, filled_before * (LEAVING[i] / 4 + 0.01)),
                )
                starters = max(0, filled - filled_before + leavers)
                posts = max(filled, round(filled / (1 - _around(rng, VACANCY[i], 0.03))))
                zero = min(filled, _noisy(rng, filled * ZERO_HOURS[i]))
                qualified = min(filled, _noisy(rng, filled * QUALIFIED[i]))
                level3 = qualified // 3
                lines.append(
                    (
                        len(returns),
                        ReturnLine(
                            role=roles[slug],
                            headcount_start=filled_before,
                            posts=posts,
                            filled=filled,
                            posts_fte=Decimal(posts) * Decimal("0.82"),
                            filled_fte=Decimal(filled) * Decimal("0.82"),
                            starters=starters,
                            leavers=leavers,
                            leavers_to_care=leavers // 2,
                            zero_hours=zero,
                            zero_hours_by_choice=round(zero * 0.6),
                            qualified_level2=qualified - level3,
                            qualified_level3=level3,
                        ),
                    )
                )
                staff_now[(provider.pk, slug)] = filled
                total_filled += filled
            hours = Decimal(total_filled * 13 * 30)  # about 30 hours a week each
            agency = (hours * Decimal(str(_around(rng, AGENCY_SHARE[i], 0.015)))).quantize(
                Decimal("1")
            )
            r.hours_worked = hours + agency
            r.agency_hours = agency
            r.agency_spend_pence = int(agency * 2450)
            returns.append(r)
    WorkforceReturn.objects.bulk_create(returns)
    for index, line in lines:
        line.workforce_return = returns[index]
    ReturnLine.objects.bulk_create([line for _i, line in lines], batch_size=2000)
    england = {"vacancy_rate": "0.0830", "leaver_rate": "0.2480"}
    for quarter in shown:
        for figure, value in england.items():
            Benchmark.objects.update_or_create(
                pool=pool,
                quarter=str(quarter),
                figure=figure,
                area=Benchmark.Area.ENGLAND,
                defaults={"value": Decimal(value), "source": "Illustrative demo figure"},
            )
    return len(returns)


def _draft(pool: Pool, provider: Provider, quarter: Quarter) -> WorkforceReturn:
    return WorkforceReturn(pool=pool, provider=provider, quarter=str(quarter))


def _noisy(rng: random.Random, mean: float) -> int:
    return max(0, round(rng.gauss(mean, max(0.5, mean * 0.25))))


def _around(rng: random.Random, mean: float, spread: float) -> float:
    return min(0.6, max(0.0, rng.uniform(mean - spread, mean + spread)))

"""Each workforce figure, worked out by hand on three small providers, against what the
registry's definitions compute from the stored returns — with a missing return, a provider
that joined mid-year, and a correction. And a published report stays as it was when a
definition changes.

Quarter of the report: 2026-Q2 (April to June). Providers, all in Bury:
- Oak Care (``provider``, a care home): returns for 2025-Q3, 2026-Q1 and 2026-Q2 (it
  missed 2025-Q4). Care workers: posts 20, filled 18 at Q2's
  end; leavers 2 (Q3), 3 (Q1), 1 (Q2).
- Elm Homecare (home care, joined 1 Feb 2026): returns for 2026-Q1 and 2026-Q2 only.
  Support workers: posts 10, filled 8; leavers 1 (Q1), 1 (Q2).
- Ash Care (a care home): asked, never returns.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from pools.models import AuditEntry, Role
from providers.models import Provider, Site
from reports import definitions, services
from reports.definitions import Definition
from reports.models import CommitteeReport, LivingWageRate, WorkforceReturn
from reports.quarters import Quarter
from reports.services import ReturnInput
from reports.workforce import workforce_figures
from tests import factories as f

LONDON = ZoneInfo("Europe/London")
Q = Quarter(2026, 2)


def _line(**kw):
    base = dict.fromkeys([n for n, _ in services.LINE_FIELDS], 0)
    base["posts_fte"] = base["filled_fte"] = Decimal("0")
    base.update(kw)
    return base


def _submit(provider, quarter: str, by, lines: dict, **fields):
    r = services.return_prefill(provider=provider, quarter=Quarter.parse(quarter))
    base = {"hours_worked": Decimal("0"), "agency_hours": Decimal("0"), "agency_spend_pence": 0,
            "lowest_hourly_pay_pence": None, "sickness_days": Decimal("0"),
            "zero_hours_evidence": ""}  # fmt: skip
    base.update(fields)
    return services.return_save(
        workforce_return=r, data=ReturnInput(fields=base, lines=lines), by=by, submit=True
    )


@pytest.fixture
def cast(pool, provider, site, manager):
    care = Role.objects.get(slug="care-worker").pk
    support = Role.objects.get(slug="support-worker").pk
    Provider.objects.filter(pk=provider.pk).update(created_at=datetime(2025, 1, 1, tzinfo=LONDON))
    elm = f.ProviderFactory(pool=pool, name="Elm Homecare")
    f.SiteFactory(provider=elm, site_type=Site.SiteType.NON_RESIDENTIAL)
    Provider.objects.filter(pk=elm.pk).update(created_at=datetime(2026, 2, 1, tzinfo=LONDON))
    ash = f.ProviderFactory(pool=pool, name="Ash Care")
    f.SiteFactory(provider=ash)
    Provider.objects.filter(pk=ash.pk).update(created_at=datetime(2025, 1, 1, tzinfo=LONDON))
    LivingWageRate.objects.create(pool=pool, year=2026, hourly_pence=1345)
    with time_machine.travel(datetime(2026, 7, 10, 10, tzinfo=LONDON), tick=False):
        _submit(
            provider,
            "2025-Q3",
            manager,
            {care: _line(headcount_start=18, posts=20, filled=17, leavers=2, starters=1)},
        )
        _submit(
            provider,
            "2026-Q1",
            manager,
            {care: _line(headcount_start=17, posts=20, filled=17, leavers=3, starters=3)},
        )
        _submit(
            provider, "2026-Q2", manager,
            {care: _line(headcount_start=17, posts=20, filled=18, starters=2, leavers=1,
                         zero_hours=6, zero_hours_by_choice=4, qualified_level2=7, qualified_level3=2)},
            hours_worked=Decimal("7000"), agency_hours=Decimal("700"), agency_spend_pence=1715000,
            lowest_hourly_pay_pence=1350, zero_hours_evidence="survey",
        )  # fmt: skip
        elm_member = f.ProviderMemberFactory(provider=elm).user
        _submit(
            elm,
            "2026-Q1",
            elm_member,
            {support: _line(headcount_start=0, posts=10, filled=7, starters=8, leavers=1)},
        )
        _submit(
            elm, "2026-Q2", elm_member,
            {support: _line(headcount_start=7, posts=10, filled=8, starters=2, leavers=1,
                            zero_hours=4, zero_hours_by_choice=1, qualified_level2=2, qualified_level3=1)},
            hours_worked=Decimal("3000"), agency_hours=Decimal("300"), agency_spend_pence=735000,
            lowest_hourly_pay_pence=1300, zero_hours_evidence="survey",
        )  # fmt: skip
    return {"elm": elm, "ash": ash, "care": care, "support": support}


def _figures(pool):
    return workforce_figures(pool_ids=[pool.pk], quarter=Q)


def test_vacancy_rate_is_vacant_posts_over_posts_of_those_who_returned(cast, pool):
    # Oak 20 posts, 18 filled; Elm 10 posts, 8 filled; Ash did not return.
    assert _figures(pool)["vacancy_rate"] == Decimal("0.1333")


def test_the_leaver_rate_scales_each_provider_to_a_year_from_the_returns_it_made(cast, pool):
    # Oak: 3 returns in the year to Q2 (2025-Q3, 2026-Q1, 2026-Q2; 2025-Q4 missing):
    # leavers 2 + 3 + 1 = 6, scaled ×4/3 = 8. Elm joined in February: 2 returns,
    # leavers 1 + 1 = 2, ×4/2 = 4. Staff at Q2's end: 18 + 8 = 26. 12 / 26 = 0.4615.
    assert _figures(pool)["leaver_rate"] == Decimal("0.4615")


def test_starters_agency_and_contract_figures(cast, pool):
    fig = _figures(pool)
    assert fig["starters"] == 4
    assert fig["agency_hours"] == Decimal("1000")
    assert fig["agency_spend"] == Decimal("24500.00")
    assert fig["agency_reliance"] == Decimal("0.1000")  # 1000 / 10000
    assert fig["zero_hours_share"] == Decimal("0.3846")  # 10 / 26
    assert fig["zero_hours_by_choice_share"] == Decimal("0.5000")  # 5 / 10
    assert fig["qualification_share"] == Decimal("0.4615")  # (9 + 3) / 26


def test_living_wage_share_compares_lowest_pay_with_the_pools_rate_for_the_year(cast, pool):
    # £13.45 in 2026: Oak pays £13.50 (meets it), Elm £13.00 (does not).
    assert _figures(pool)["living_wage_share"] == Decimal("0.5000")


def test_return_rate_counts_providers_asked_by_the_quarters_end(cast, pool):
    # Oak, Elm (joined in Q1) and Ash were asked; two returned.
    assert _figures(pool)["return_rate"] == Decimal("0.6667")
    # In 2025-Q3 Elm had not joined: Oak and Ash were asked, Oak returned.
    assert workforce_figures(pool_ids=[pool.pk], quarter=Quarter(2025, 3))[
        "return_rate"
    ] == Decimal("0.5000")


def test_a_draft_return_counts_for_nothing(cast, pool, manager):
    services.return_prefill(provider=cast["ash"], quarter=Q)  # Ash starts, never submits
    assert _figures(pool)["return_rate"] == Decimal("0.6667")
    assert _figures(pool)["vacancy_rate"] == Decimal("0.1333")


def test_a_correction_changes_the_figures_and_the_audit_log_keeps_why(
    cast, pool, provider, manager
):
    assert _figures(pool)["vacancy_rate"] == Decimal("0.1333")  # now kept in the cache
    r = WorkforceReturn.objects.get(provider=provider, quarter=str(Q))
    values = services.return_values(workforce_return=r)
    values[f"line-{cast['care']}-filled"] = 20  # the manager had miscounted
    data, errors = services.return_parse(values, services.return_roles())
    assert errors == {}
    with pytest.raises(services.ValidationError) as refused:
        services.return_save(workforce_return=r, data=data, by=manager, submit=True)
    assert "reason" in refused.value.message_dict
    services.return_save(
        workforce_return=r, data=data, by=manager, submit=True, reason="Miscounted"
    )
    assert _figures(pool)["vacancy_rate"] == Decimal("0.0667")  # 2 / 30
    entry = AuditEntry.objects.get(action="return.corrected")
    assert entry.reason.startswith("Miscounted") and f"line-{cast['care']}-filled" in entry.reason


def test_another_pools_returns_never_count(cast, pool, other_pool):
    outsider = f.ProviderFactory(pool=other_pool, name="Rochdale Care")
    member = f.ProviderMemberFactory(provider=outsider).user
    with time_machine.travel(datetime(2026, 7, 10, 10, tzinfo=LONDON), tick=False):
        _submit(outsider, str(Q), member, {cast["care"]: _line(posts=100, filled=10)})
    assert _figures(pool)["vacancy_rate"] == Decimal("0.1333")


def test_a_published_report_is_unchanged_after_a_definition_changes(
    cast, pool, coordinator, monkeypatch
):
    with time_machine.travel(datetime(2026, 7, 20, 10, tzinfo=LONDON), tick=False):
        report = services.report_publish(
            report=services.report_for(pool=pool, quarter=Q), by=coordinator
        )
    stored = dict(report.figures)
    assert stored["definitions_version"] == 1 and stored["headline"]["leaver_rate"] == "0.4615"

    # Version 2: the leaver rate over average staff, not staff at the end.
    def leaver_rate_v2(data):
        leavers = sum(x.leavers for r in data.returns for x in r.lines)
        return definitions.ratio(
            leavers * 4, sum(x.headcount_start for r in data.returns for x in r.lines)
        )

    v2 = [d if d.key != "leaver_rate" else Definition(d.key, d.name, "Another meaning", d.unit, leaver_rate_v2)
          for d in definitions.VERSIONS[1]]  # fmt: skip
    monkeypatch.setitem(definitions.VERSIONS, 2, v2)
    assert definitions.current_version() == 2
    assert _figures(pool)["leaver_rate"] != Decimal("0.4615")
    report = CommitteeReport.objects.get(pk=report.pk)
    assert services.report_figures(report=report) == stored
    # And version 1 still reproduces it exactly from the returns.
    assert workforce_figures(pool_ids=[pool.pk], quarter=Q, version=1)["leaver_rate"] == Decimal(
        "0.4615"
    )


def test_figures_by_role_and_type_split_the_same_returns(cast, pool):
    from reports.workforce import workforce_report

    with time_machine.travel(datetime(2026, 7, 20, 10, tzinfo=LONDON), tick=False):
        data = workforce_report(pool_ids=[pool.pk], quarter=Q)
    by_role = {row["group"]: row for row in data["by_role"]}
    assert by_role["Care worker"]["vacancy_rate"] == "0.1000"  # 2 / 20
    assert by_role["Support worker"]["vacancy_rate"] == "0.2000"  # 2 / 10
    assert by_role["Care worker"]["agency_hours"] is None  # not known by role
    by_type = {row["group"]: row for row in data["by_type"]}
    assert by_type["Residential (care homes)"]["return_rate"] == "0.5000"  # Oak of Oak, Ash
    assert by_type["Non-residential"]["vacancy_rate"] == "0.2000"
    assert [row["group"] for row in data["trend"]][-1] == "2026-Q2"
    assert data["returns"] == {"expected": 3, "returned": 2, "returned_late": 0, "missing": 1}
    assert date(2026, 7, 28) == Q.due

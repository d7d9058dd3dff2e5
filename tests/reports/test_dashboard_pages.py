from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from tests.reports.history import FROM, TO, build_history

RANGE = {"start": FROM.isoformat(), "end": TO.isoformat()}


@pytest.fixture
def history(site, pool):
    return build_history(site, pool)


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_dashboard_shows_the_headline_figures_and_the_formula(client, coordinator, history):
    client.force_login(coordinator)
    page = client.get(reverse("reports:dashboard"), RANGE).content.decode()
    assert "60.0%" in page  # 3 of 5 shifts
    assert "£1,308.00" in page
    assert "filled places × shift length (hours) × agency hourly rate" in page
    assert "counted by the day each shift starts" in page
    # The week-by-week chart is a trend line, its table beside it.
    assert '<svg class="flexpool-chart flexpool-chart--line" role="img"' in page
    assert "<polyline" in page and 'id="table-weekly"' in page


def test_every_dashboard_table_downloads_as_csv(client, coordinator, history):
    client.force_login(coordinator)
    rows = _csv(client.get(reverse("reports:dashboard"), {**RANGE, "export": "headline"}))
    assert rows[0] == ["Measure", "Value"]
    assert ["Agency spend avoided (£)", "1308.00"] in rows
    weekly = _csv(client.get(reverse("reports:dashboard"), {**RANGE, "export": "weekly"}))
    assert weekly[1][:3] == ["02 Mar 2026", "5", "3"]
    for name, slugs in [
        ("reports:dashboard_breakdown", ["by-provider", "by-role", "by-site-type"]),
        (
            "reports:dashboard_demand",
            [
                "unfilled-by-skill",
                "unfilled-by-district",
                "unfilled-by-weekday",
                "unfilled-by-time",
            ],
        ),
        ("reports:dashboard_conduct", ["cancellations", "provider-conduct"]),
        ("reports:dashboard_health", ["health", "pipeline"]),
    ]:
        for slug in slugs:
            response = client.get(reverse(name), {**RANGE, "export": slug})
            assert response.status_code == 200, (name, slug)
            assert len(_csv(response)) >= 2, (name, slug)
    assert client.get(reverse("reports:dashboard"), {**RANGE, "export": "nope"}).status_code == 404


def test_provider_conduct_counts_late_cancellations_and_turned_away(client, coordinator, history):
    client.force_login(coordinator)
    rows = _csv(
        client.get(reverse("reports:dashboard_conduct"), {**RANGE, "export": "provider-conduct"})
    )
    header, oak = rows[0], rows[1]
    assert oak[0] == "Oak Care"
    assert oak[header.index("Late cancellations by provider")] == "2"
    assert oak[header.index("Workers turned away")] == "1"
    assert oak[header.index("No-shows")] == "1"


def test_filters_narrow_the_figures(client, coordinator, history, outsider):
    client.force_login(coordinator)
    rows = _csv(
        client.get(
            reverse("reports:dashboard"),
            {**RANGE, "site_type": "non_residential", "export": "headline"},
        )
    )
    assert ["Shifts requested", "0"] in rows


def test_an_end_before_the_start_is_a_field_error(client, coordinator):
    client.force_login(coordinator)
    response = client.get(
        reverse("reports:dashboard"), {"start": "2026-03-08", "end": "2026-03-01"}
    )
    assert response.status_code == 400
    assert "The end date must be on or after the start date." in response.content.decode()
    response = client.get(reverse("reports:dashboard"), {"start": "not a date"})
    assert response.status_code == 400


def test_a_coordinator_cannot_pick_another_pool_or_its_provider(
    client, coordinator, other_pool, history
):
    client.force_login(coordinator)
    response = client.get(reverse("reports:dashboard"), {**RANGE, "pool": other_pool.pk})
    assert response.status_code == 400


def test_the_region_view_adds_the_pools_up(client, regional, history, other_pool):
    client.force_login(regional)
    rows = _csv(client.get(reverse("reports:region"), {**RANGE, "export": "region"}))
    names = [r[0] for r in rows[1:]]
    assert names == ["Bury", "Region total"]
    assert rows[-1][1] == "5"


def test_pool_health_counts_vetted_compliant_and_active_workers(
    client, coordinator, history, worker
):
    client.force_login(coordinator)
    rows = dict(
        _csv(client.get(reverse("reports:dashboard_health"), {**RANGE, "export": "health"}))[1:]
    )
    # Wendy plus the four history workers are approved; only Wendy holds documents.
    assert rows["Vetted workers (approved now)"] == "5"
    assert rows["Compliant workers (vetted, every required document valid today)"] == "1"
    assert rows["Active workers (vetted, worked a shift in the range)"] == "3"
    assert rows["Utilisation (active ÷ vetted)"] == "60.0%"

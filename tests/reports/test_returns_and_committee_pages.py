"""The workforce return at each of its doors (form, CSV upload, correction, reminders,
chasing), the committee report's pages, PDF and CSV, and the workforce API — each for its
own people and refused (404) to another provider, another pool's coordinator and workers."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from notifications.models import Notification
from pools.models import AuditEntry, Role
from providers.models import Provider
from reports import services
from reports.models import CommitteeReport, ReturnLine, WorkforceReturn
from reports.quarters import Quarter
from reports.tasks import returns_send_reminders
from tests import factories as f

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 7, 10, 10, tzinfo=LONDON)
Q = "2026-Q2"


@pytest.fixture(autouse=True)
def _in_july():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def asked(provider, outsider):
    """Oak Care and Otto's provider were in the pool long before the quarter."""
    Provider.objects.all().update(created_at=datetime(2025, 1, 1, tzinfo=LONDON))


@pytest.fixture
def care(reference):
    return Role.objects.get(slug="care-worker").pk


def _form(care: int, **over) -> dict[str, str]:
    data = {
        "hours_worked": "5000",
        "agency_hours": "400",
        "agency_spend_pence": "9,800.50",
        "lowest_hourly_pay_pence": "12.60",
        "sickness_days": "14",
        "zero_hours_evidence": "survey",
        f"line-{care}-headcount_start": "20",
        f"line-{care}-posts": "24",
        f"line-{care}-filled": "21",
        f"line-{care}-posts_fte": "20.5",
        f"line-{care}-filled_fte": "18",
        f"line-{care}-starters": "3",
        f"line-{care}-leavers": "2",
        f"line-{care}-leavers_to_care": "1",
        f"line-{care}-zero_hours": "5",
        f"line-{care}-zero_hours_by_choice": "2",
        f"line-{care}-qualified_level2": "8",
        f"line-{care}-qualified_level3": "4",
        "submit": "1",
    }
    data.update(over)
    return data


def _edit(quarter: str = Q) -> str:
    return reverse("returns:edit", args=[quarter])


def test_a_provider_submits_a_return_with_money_in_pence(client, manager, provider, care):
    client.force_login(manager)
    assert client.get(_edit()).status_code == 200
    response = client.post(_edit(), _form(care))
    assert response.status_code == 302
    r = WorkforceReturn.objects.get(provider=provider, quarter=Q)
    assert r.status == "submitted" and r.agency_spend_pence == 980050
    assert r.lowest_hourly_pay_pence == 1260
    assert ReturnLine.objects.get(workforce_return=r).filled == 21


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("filled", "25", "Filled posts must not be more than posts."),
        ("leavers", "24", "Leavers must not be more than staff at the start plus starters."),
        ("zero_hours_by_choice", "6", "Must not be more than staff on zero hours."),
    ],
)
def test_a_return_that_breaks_a_rule_is_refused_field_by_field_and_nothing_is_written(
    client, manager, provider, care, field, value, message
):
    client.force_login(manager)
    response = client.post(_edit(), _form(care, **{f"line-{care}-{field}": value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not WorkforceReturn.objects.filter(provider=provider, status="submitted").exists()
    assert not ReturnLine.objects.exists()


def test_money_with_more_than_two_decimal_places_is_a_field_error(client, manager, care):
    client.force_login(manager)
    response = client.post(_edit(), _form(care, agency_spend_pence="12.345"))
    assert response.status_code == 400
    assert "no more than two decimal places" in response.content.decode()


def test_the_next_quarter_is_prefilled_from_the_last(client, manager, provider, care):
    client.force_login(manager)
    client.post(_edit("2026-Q1"), _form(care))
    page = client.get(_edit())
    grid = {c["name"]: c["value"] for row in page.context["grid"] for c in row["cells"]}
    assert grid[f"line-{care}-posts"] == 24
    assert grid[f"line-{care}-headcount_start"] == 21  # filled at the end of Q1
    assert grid[f"line-{care}-leavers"] == 0  # movements start empty


def test_a_correction_needs_a_reason_and_is_in_the_audit_log(client, manager, provider, care):
    client.force_login(manager)
    client.post(_edit(), _form(care))
    refused = client.post(_edit(), _form(care, **{f"line-{care}-filled": "22"}))
    assert refused.status_code == 400 and "Say why" in refused.content.decode()
    done = client.post(_edit(), _form(care, **{f"line-{care}-filled": "22"}, reason="Miscounted"))
    assert done.status_code == 302
    assert ReturnLine.objects.get().filled == 22
    assert AuditEntry.objects.filter(
        action="return.corrected", reason__startswith="Miscounted"
    ).exists()


def test_the_csv_template_downloads_and_uploads_back(client, manager, provider, care):
    client.force_login(manager)
    template = client.get(reverse("returns:template", args=[Q]))
    assert template["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(template.content.decode())))
    slug_row = next(r for r in rows if r["row"] == "care-worker")
    provider_row = next(r for r in rows if r["row"] == "provider")
    slug_row.update(posts="10", filled="8", headcount_start="8", starters="1", leavers="1")
    provider_row.update(hours_worked="900", agency_hours="50", agency_spend_pence="1225.00")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0].keys()))
    writer.writeheader()
    writer.writerows(rows)
    upload = SimpleUploadedFile("return.csv", out.getvalue().encode(), "text/csv")
    response = client.post(reverse("returns:upload", args=[Q]), {"file": upload})
    assert response.status_code == 302
    r = WorkforceReturn.objects.get(provider=provider, quarter=Q)
    assert r.status == "draft" and r.agency_spend_pence == 122500
    assert ReturnLine.objects.get(workforce_return=r).posts == 10


def test_a_bad_csv_is_refused_with_its_rows_named(client, manager, provider, care):
    client.force_login(manager)
    body = (
        "row,posts,filled,headcount_start,leavers,starters\n"
        "care-worker,10,12,5,1,0\n"
        "cook,1,1,0,0,0\n"
    )
    upload = SimpleUploadedFile("return.csv", body.encode(), "text/csv")
    response = client.post(reverse("returns:upload", args=[Q]), {"file": upload})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Row 3: &#x27;cook&#x27; is not a role" in text
    assert "The &#x27;provider&#x27; row is missing." in text
    assert not ReturnLine.objects.exists()


def test_another_providers_manager_sees_only_their_own_return(
    client, manager, outsider, provider, care
):
    client.force_login(manager)
    client.post(_edit(), _form(care))
    client.force_login(outsider)
    page = client.get(_edit())
    assert page.status_code == 200
    assert page.context["workforce_return"].provider_id != provider.pk


def test_workers_and_coordinators_get_404_on_return_pages(client, worker, coordinator):
    for user in (worker.user, coordinator):
        client.force_login(user)
        assert client.get(_edit()).status_code == 404


def test_a_quarter_that_has_not_ended_or_is_nonsense_is_404(client, manager):
    client.force_login(manager)
    assert client.get(_edit("2026-Q3")).status_code == 404
    assert client.get(_edit("2026-Q9")).status_code == 404


def test_reminders_go_once_per_kind_and_stop_when_returned(manager, provider, outsider, asked):
    with time_machine.travel(datetime(2026, 7, 2, 8, tzinfo=LONDON), tick=False):
        assert returns_send_reminders() == 2  # Mary and Otto: "open"
        assert returns_send_reminders() == 0
    Notification.objects.all().delete()
    r = services.return_prefill(provider=provider, quarter=Quarter.parse(Q))
    WorkforceReturn.objects.filter(pk=r.pk).update(status="submitted", submitted_at=NOW)
    with time_machine.travel(datetime(2026, 7, 23, 8, tzinfo=LONDON), tick=False):
        assert returns_send_reminders() == 1  # Otto only: "due soon"
    assert Notification.objects.get().user == outsider


def test_a_coordinator_chases_a_provider_of_their_own_pool_only(
    client, coordinator, other_coordinator, provider, manager, asked
):
    client.force_login(coordinator)
    page = client.get(reverse("workforce:returns"), {"quarter": Q})
    assert page.status_code == 200 and provider.name in page.content.decode()
    response = client.post(
        reverse("workforce:chase", args=[provider.pk]), {"quarter": Q}, follow=True
    )
    assert "Oak Care is chased (1 message)" in response.content.decode()
    assert Notification.objects.filter(user=manager, kind="return_chase").exists()
    client.force_login(other_coordinator)
    assert (
        client.post(reverse("workforce:chase", args=[provider.pk]), {"quarter": Q}).status_code
        == 404
    )
    assert (
        provider.name
        not in client.get(reverse("workforce:returns"), {"quarter": Q}).content.decode()
    )


@pytest.fixture
def returned(client, manager, provider, care):
    Provider.objects.filter(pk=provider.pk).update(created_at=datetime(2025, 1, 1, tzinfo=LONDON))
    client.force_login(manager)
    client.post(_edit(), _form(care))
    client.logout()


def test_the_committee_report_shows_figures_and_publishing_freezes_them(
    client, coordinator, returned, provider
):
    client.force_login(coordinator)
    url = reverse("workforce:report", args=[Q])
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "12.5%" in text  # vacancy: 3 of 24 posts
    assert "Definitions version 1" in text
    client.post(url, {"notes": "1", "officer_notes": "Good quarter."})
    client.post(url, {"publish": "1"})
    report = CommitteeReport.objects.get()
    assert report.status == "published" and report.figures["headline"]["vacancy_rate"] == "0.1250"
    # A later correction does not touch the published report.
    r = WorkforceReturn.objects.get(provider=provider)
    data, _ = services.return_parse(
        {
            **services.return_values(workforce_return=r),
            f"line-{Role.objects.get(slug='care-worker').pk}-filled": "24",
        },
        services.return_roles(),
    )
    services.return_save(
        workforce_return=r, data=data, by=coordinator, submit=True, reason="late news"
    )
    assert "12.5%" in client.get(url).content.decode()
    assert client.post(url, {"notes": "1", "officer_notes": "Changed"}).status_code == 302
    assert CommitteeReport.objects.get().officer_notes == "Good quarter."


def test_every_committee_table_downloads_as_csv_and_the_pdf_renders(client, coordinator, returned):
    client.force_login(coordinator)
    url = reverse("workforce:report", args=[Q])
    page = client.get(url)
    for table in page.context["tables"]:
        response = client.get(url, {"export": table.slug})
        assert response["Content-Type"].startswith("text/csv"), table.slug
        assert list(csv.reader(io.StringIO(response.content.decode())))[0] == table.headers
    assert client.get(url, {"export": "nope"}).status_code == 404
    assert client.get(reverse("workforce:report_print", args=[Q])).status_code == 200
    pdf = client.get(reverse("workforce:report_pdf", args=[Q]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_another_pools_coordinator_sees_only_their_pools_report(
    client, other_coordinator, returned
):
    client.force_login(other_coordinator)
    page = client.get(reverse("workforce:report", args=[Q]))
    assert page.status_code == 200
    assert page.context["data"]["returns"]["returned"] == 0
    assert CommitteeReport.objects.get().pool.slug == "rochdale"


@pytest.mark.parametrize("name", ["workforce:returns", "workforce:benchmarks", "workforce:reports"])
def test_providers_and_workers_get_404_on_coordinator_pages(client, manager, worker, name):
    for user in (manager, worker.user):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 404
        assert client.get(reverse("workforce:report", args=[Q])).status_code == 404


def test_a_benchmark_needs_a_source_and_a_sensible_value(client, coordinator):
    client.force_login(coordinator)
    url = reverse("workforce:benchmarks")
    bad = client.post(
        url,
        {"quarter": Q, "figure": "vacancy_rate", "area": "england", "value": "150", "source": ""},
    )
    assert bad.status_code == 400
    good = client.post(
        url,
        {
            "quarter": Q,
            "figure": "vacancy_rate",
            "area": "england",
            "value": "8.3",
            "source": "Skills for Care",
        },
    )
    assert good.status_code == 302


URL = "/api/v1/stats/workforce/"


def test_the_workforce_api_gives_the_quarters_figures(coordinator, returned):
    api = APIClient()
    api.force_authenticate(coordinator)
    body = api.get(URL, {"quarter": Q}).json()
    assert body["vacancy_rate"] == "0.1250"
    assert body["leaver_rate"] == "0.3810"  # 2 leavers × 4 quarters / 21 staff
    assert body["starters"] == 3
    assert body["return_rate"] == "1.0000"
    assert body["definitions_version"] == 1
    for key in (
        "agency_hours",
        "zero_hours_share",
        "zero_hours_by_choice_share",
        "qualification_share",
    ):
        assert key in body


def test_the_workforce_api_refuses_bad_input_others_and_other_pools(
    coordinator, manager, worker, regional, other_pool, returned
):
    api = APIClient()
    api.force_authenticate(coordinator)
    assert api.get(URL, {"quarter": "2026-Q5"}).status_code == 400
    assert api.get(URL).status_code == 400
    assert api.get(URL, {"quarter": Q, "pool": "rochdale"}).status_code == 404
    for user in (manager, worker.user):
        api.force_authenticate(user)
        assert api.get(URL, {"quarter": Q}).status_code in (403, 404)
    api.force_authenticate(regional)
    assert api.get(URL, {"quarter": Q, "pool": "rochdale"}).json()["return_rate"] is None
    assert api.get(URL, {"quarter": Q, "pool": "bury"}).json()["vacancy_rate"] == "0.1250"


def test_providers_asked_include_only_those_in_the_pool_by_the_quarters_end(pool, provider):
    from reports.workforce import providers_expected

    late = f.ProviderFactory(pool=pool, name="Late Joiner")
    Provider.objects.filter(pk=late.pk).update(created_at=datetime(2026, 8, 1, tzinfo=LONDON))
    assert late.pk not in providers_expected(pool_ids=[pool.pk], quarter=Quarter.parse(Q))
    assert Quarter.parse(Q).due == date(2026, 7, 28)


def test_the_providers_home_page_shows_the_return_it_owes_until_submitted(client, manager, care):
    client.force_login(manager)
    home = client.get(reverse("providers:dashboard")).content.decode()
    assert "Your workforce return for April to June 2026 is due on 28 July 2026" in home
    client.post(_edit(), _form(care))
    assert (
        "Your workforce return" not in client.get(reverse("providers:dashboard")).content.decode()
    )

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from pools.models import AuditEntry, Pool, RoleRate


def _form(pool, **overrides):
    data = {
        f"policy-{k}": str(getattr(pool, k))
        for k in [
            "rest_hours",
            "default_radius_km",
            "distance_unit",
            "first_wave_size",
            "wave_growth",
            "wave_interval_minutes",
            "urgent_within_hours",
            "offer_ttl_minutes",
            "escalate_within_hours",
            "critical_escalate_within_hours",
            "late_cancellation_hours",
            "default_weekly_hours_cap",
            "opt_out_notice_days",
            "leaver_retention_days",
        ]
    }
    for rate in RoleRate.objects.filter(pool=pool).select_related("role"):
        data[f"rates-agency_{rate.role.slug}"] = str(rate.benchmark_agency_rate)
        data[f"rates-cost_{rate.role.slug}"] = str(rate.pool_hourly_cost)
    data.update(overrides)
    return data


def test_changing_the_pool_policy_and_a_rate_is_saved_and_audited(client, coordinator, pool):
    client.force_login(coordinator)
    response = client.post(
        reverse("pools:settings"),
        _form(pool, **{"policy-rest_hours": "12", "rates-cost_care-worker": "15.00"}),
    )
    assert response.status_code == 302
    pool.refresh_from_db()
    assert pool.rest_hours == 12
    rate = RoleRate.objects.get(pool=pool, role__slug="care-worker")
    assert rate.pool_hourly_cost == Decimal("15.00")
    reasons = list(AuditEntry.objects.values_list("action", "reason"))
    assert ("pool.settings", "rest_hours: 11 → 12") in reasons
    assert any(a == "pool.role_rate" and "£14.20 → £15.00" in r for a, r in reasons)


def test_rest_below_the_legal_eleven_hours_is_refused(client, coordinator, pool):
    client.force_login(coordinator)
    response = client.post(reverse("pools:settings"), _form(pool, **{"policy-rest_hours": "8"}))
    assert response.status_code == 400
    assert "govuk-error-summary" in response.content.decode()
    assert Pool.objects.get(pk=pool.pk).rest_hours == 11
    assert not AuditEntry.objects.exists()


def test_a_negative_rate_is_refused(client, coordinator, pool):
    client.force_login(coordinator)
    response = client.post(reverse("pools:settings"), _form(pool, **{"rates-agency_nurse": "-1"}))
    assert response.status_code == 400


def test_saving_unchanged_settings_writes_nothing_to_the_audit_log(client, coordinator, pool):
    client.force_login(coordinator)
    client.post(reverse("pools:settings"), _form(pool))
    assert not AuditEntry.objects.exists()


def test_the_pool_sets_how_long_a_leavers_data_is_kept_and_the_change_is_audited(
    client, coordinator, pool
):
    client.force_login(coordinator)
    response = client.post(
        reverse("pools:settings"), _form(pool, **{"policy-leaver_retention_days": "365"})
    )
    assert response.status_code == 302
    assert Pool.objects.get(pk=pool.pk).leaver_retention_days == 365
    assert AuditEntry.objects.filter(
        action="pool.settings", reason="leaver_retention_days: 183 → 365"
    ).exists()


def test_a_retention_period_shorter_than_thirty_days_gets_a_field_error(client, coordinator, pool):
    client.force_login(coordinator)
    response = client.post(
        reverse("pools:settings"), _form(pool, **{"policy-leaver_retention_days": "3"})
    )
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 30." in response.content.decode()
    assert Pool.objects.get(pk=pool.pk).leaver_retention_days == 183

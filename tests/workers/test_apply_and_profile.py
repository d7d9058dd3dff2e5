from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories as f
from workers.models import Worker

pytestmark = pytest.mark.django_db

APPLICATION = {
    "display_name": "Ada Applicant",
    "phone": "07700 900982",
    "postcode": "bl8 1aa",
    "travel_radius_km": "12",
    "drives": "yes",
    "roles": [],
    "skills": [],
    "weekly_hours_cap": "30",
}


def application(**changes):
    from pools.models import Role, Skill

    data = dict(APPLICATION)
    data["roles"] = [Role.objects.get(slug="care-worker").pk]
    data["skills"] = [Skill.objects.get(slug="dementia").pk]
    data.update(changes)
    return data


def test_a_new_account_applies_and_becomes_an_applied_worker_in_the_pool(client, pool):
    user = f.UserFactory(email="ada@example.test")
    client.force_login(user)
    assert client.get(reverse("workers:apply")).status_code == 200
    response = client.post(reverse("workers:apply"), application())
    assert response.status_code == 302
    assert response["Location"] == reverse("workers:documents")
    worker = Worker.objects.get(user=user)
    assert worker.status == Worker.Status.APPLIED
    assert worker.pool == pool
    assert (worker.postcode, worker.district) == ("BL8 1AA", "BL8")
    assert (worker.latitude, worker.longitude) == (53.613, -2.339)
    assert worker.drives is True
    assert worker.weekly_hours_cap == 30
    assert [r.slug for r in worker.roles.all()] == ["care-worker"]
    assert [s.slug for s in worker.skills.all()] == ["dementia"]


def test_an_unknown_postcode_is_a_field_error_not_a_crash(client, pool):
    client.force_login(f.UserFactory())
    response = client.post(reverse("workers:apply"), application(postcode="SW1A 1AA"))
    assert response.status_code == 200
    assert "SW1A 1AA is outside the area this pool covers" in response.content.decode()
    assert 'class="govuk-error-summary"' in response.content.decode()
    assert not Worker.objects.exists()


def test_a_malformed_postcode_and_missing_role_are_field_errors(client, pool):
    client.force_login(f.UserFactory())
    response = client.post(reverse("workers:apply"), application(postcode="nope", roles=[]))
    body = response.content.decode()
    assert "Enter a full UK postcode" in body
    assert "Select at least one role." in body
    assert not Worker.objects.exists()


def test_a_worker_who_applied_already_is_sent_to_their_profile(client, worker):
    client.force_login(worker.user)
    response = client.get(reverse("workers:apply"))
    assert response["Location"] == reverse("workers:profile")


def test_coordinators_and_provider_managers_cannot_apply(client, coordinator, manager):
    for user in (coordinator, manager):
        client.force_login(user)
        assert client.get(reverse("workers:apply")).status_code == 404


def test_a_signed_in_person_without_a_worker_record_is_sent_to_apply(client, pool):
    client.force_login(f.UserFactory())
    response = client.get(reverse("workers:offers"))
    assert response["Location"] == reverse("workers:apply")


def test_a_worker_updates_their_profile_and_opts_in_to_a_neighbouring_pool(client, worker, pool):
    neighbour = f.PoolFactory(name="Bolton", slug="bolton")
    pool.neighbours.add(neighbour)
    client.force_login(worker.user)
    page = client.get(reverse("workers:profile"))
    assert "Bolton" in page.content.decode()
    response = client.post(
        reverse("workers:profile"),
        application(display_name="Wendy W", postcode="M26 2AB", extra_pools=[neighbour.pk]),
    )
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.display_name == "Wendy W"
    assert worker.district == "M26"
    assert list(worker.extra_pools.all()) == [neighbour]


def test_provider_managers_get_404_on_worker_pages(client, manager):
    client.force_login(manager)
    assert client.get(reverse("workers:profile")).status_code == 404
    assert client.get(reverse("workers:offers")).status_code == 404

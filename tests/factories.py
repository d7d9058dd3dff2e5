"""factory_boy factories for the FlexPool domain. Defaults build a lawful, matchable
world: an approved worker with every required document, available all week, living
near the site."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import User
from pools.models import Coordinator, DocumentType, Pool, Role, Skill
from providers.models import Provider, ProviderMember, Site
from shifts.models import Offer, ShiftRequest
from workers.models import AvailabilityRule, Document, Worker

PASSWORD = "flexpool-test-pw"

# Bury town centre (BL9).
BURY = (53.593, -2.298)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class PoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pool
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Borough {n}")
    slug = factory.Sequence(lambda n: f"borough-{n}")


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    pool = factory.SubFactory(PoolFactory)
    name = factory.Sequence(lambda n: f"Care Home Group {n}")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    provider = factory.SubFactory(ProviderFactory)
    name = factory.Sequence(lambda n: f"Oak House {n}")
    cqc_location_id = factory.Sequence(lambda n: f"1-{100000000 + n}")
    site_type = Site.SiteType.RESIDENTIAL
    address = factory.Sequence(lambda n: f"{n} Bolton Street, Bury")
    postcode = "BL9 0AA"
    district = "BL9"
    latitude = BURY[0]
    longitude = BURY[1]


class ProviderMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderMember

    user = factory.SubFactory(UserFactory)
    provider = factory.SubFactory(ProviderFactory)
    is_admin = True


class CoordinatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coordinator

    user = factory.SubFactory(UserFactory)
    pool = factory.SubFactory(PoolFactory)


class WorkerFactory(factory.django.DjangoModelFactory):
    """An approved care worker with every document a care-worker needs, valid for a
    year, available every day at any hour, living a kilometre or so from Bury centre."""

    class Meta:
        model = Worker
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    pool = factory.SubFactory(PoolFactory)
    display_name = factory.LazyAttribute(lambda o: f"{o.user.first_name} {o.user.last_name}")
    phone = "07700 900123"
    postcode = "BL9 5AA"
    district = "BL9"
    latitude = BURY[0] + 0.01
    longitude = BURY[1]
    travel_radius_km = Decimal("10.0")
    status = Worker.Status.APPROVED
    approved_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):  # noqa: N805
        slugs = extracted if extracted is not None else ["care-worker"]
        obj.roles.set(Role.objects.filter(slug__in=slugs))

    @factory.post_generation
    def skills(obj, create, extracted, **kwargs):  # noqa: N805
        if extracted:
            obj.skills.set(Skill.objects.filter(slug__in=extracted))

    @factory.post_generation
    def documents(obj, create, extracted, **kwargs):  # noqa: N805
        """Pass documents=False for none; otherwise every document type, valid a year."""
        if extracted is False:
            return
        today = timezone.localdate()
        Document.objects.bulk_create(
            Document(
                worker=obj,
                doc_type=doc_type,
                status=Document.Status.APPROVED,
                issued_on=today - timedelta(days=200),
                expires_on=(today + timedelta(days=365)) if doc_type.expires else None,
            )
            for doc_type in DocumentType.objects.all()
        )

    @factory.post_generation
    def availability(obj, create, extracted, **kwargs):  # noqa: N805
        """Pass availability=False for none; otherwise all day, every day."""
        if extracted is False:
            return
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(worker=obj, weekday=d, start_minute=0, end_minute=1440)
            for d in range(7)
        )


class ShiftFactory(factory.django.DjangoModelFactory):
    """A care-worker day shift tomorrow 08:00–16:00 London time at a Bury site."""

    class Meta:
        model = ShiftRequest
        skip_postgeneration_save = True

    site = factory.SubFactory(SiteFactory)
    provider = factory.LazyAttribute(lambda o: o.site.provider)
    pool = factory.LazyAttribute(lambda o: o.site.provider.pool)
    role = factory.LazyFunction(lambda: Role.objects.get(slug="care-worker"))
    start = factory.LazyFunction(
        lambda: timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
        + timedelta(days=1)
    )
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=8))
    headcount = 1
    agency_hourly_rate = Decimal("24.50")
    posted_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def skills(obj, create, extracted, **kwargs):  # noqa: N805
        if extracted:
            obj.skills.set(Skill.objects.filter(slug__in=extracted))


class OfferFactory(factory.django.DjangoModelFactory):
    """A pending first-wave offer of ``shift`` to ``worker``, sent now, for an hour."""

    class Meta:
        model = Offer

    wave = 1
    rank = 1
    distance_km = 1
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.sent_at + timedelta(hours=1))


def tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)

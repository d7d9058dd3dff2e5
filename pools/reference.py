"""The roles, skills and compliance documents every FlexPool installation starts with.

Identifiers are slugs and stable: the API and imports refer to them.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from pools.models import DocumentType, Pool, Role, RoleRate, Skill

# slug, name, expires, required for every worker
DOCUMENT_TYPES: list[tuple[str, str, bool, bool]] = [
    ("dbs-enhanced", "Enhanced DBS check with adults' barred list", True, True),
    ("right-to-work", "Right to work in the UK", True, True),
    ("identity", "Proof of identity", False, True),
    ("references", "Two references", False, True),
    ("employment-history", "Full employment history", False, True),
    ("moving-handling", "Moving and handling training", True, True),
    ("safeguarding-adults", "Safeguarding adults training", True, True),
    ("infection-control", "Infection prevention and control training", True, True),
    ("basic-life-support", "Basic life support training", True, True),
    ("fire-safety", "Fire safety training", True, True),
    ("oliver-mcgowan", "Oliver McGowan training on learning disability and autism", True, True),
    ("medication-training", "Medication administration training", True, False),
    ("care-certificate", "Care Certificate", False, False),
    ("nmc-pin", "NMC PIN (revalidation date as expiry)", True, False),
    ("driving-licence", "Driving licence and business car insurance", True, False),
]

# slug, name, extra documents the role needs, benchmark agency rate, pool's hourly cost
ROLES: list[tuple[str, str, list[str], Decimal, Decimal]] = [
    ("care-worker", "Care worker", [], Decimal("24.50"), Decimal("14.20")),
    ("senior-carer", "Senior carer", ["medication-training"], Decimal("27.00"), Decimal("15.60")),
    ("support-worker", "Support worker", [], Decimal("24.00"), Decimal("14.00")),
    ("nurse", "Registered nurse", ["nmc-pin"], Decimal("55.00"), Decimal("28.50")),
]

# slug, name, extra documents the skill needs
SKILLS: list[tuple[str, str, list[str]]] = [
    ("medication", "Medication administration", ["medication-training"]),
    ("hoist", "Hoist and moving and handling", []),
    ("dementia", "Dementia care", []),
    ("end-of-life", "End-of-life care", []),
    ("peg-feeding", "PEG feeding", []),
    ("catheter-stoma", "Catheter and stoma care", []),
    ("insulin", "Insulin", []),
    ("epilepsy-rescue", "Epilepsy rescue medication", ["medication-training"]),
    ("pbs", "Positive behaviour support", []),
    ("learning-disability", "Learning disability", []),
    ("mental-health", "Mental health", []),
    ("driver", "Car driver", ["driving-licence"]),
]


@transaction.atomic
def reference_data_ensure() -> None:
    """Create or update the standard document types, roles and skills (idempotent)."""
    docs = {}
    for slug, name, expires, for_all in DOCUMENT_TYPES:
        docs[slug], _ = DocumentType.objects.update_or_create(
            slug=slug, defaults={"name": name, "expires": expires, "required_for_all": for_all}
        )
    for slug, name, needs, _agency, _cost in ROLES:
        role, _ = Role.objects.update_or_create(slug=slug, defaults={"name": name})
        role.required_documents.set([docs[d] for d in needs])
    for slug, name, needs in SKILLS:
        skill, _ = Skill.objects.update_or_create(slug=slug, defaults={"name": name})
        skill.required_documents.set([docs[d] for d in needs])


def pool_rates_ensure(pool: Pool) -> None:
    """Give ``pool`` the standard benchmark agency rate and own cost for every role it lacks."""
    for slug, _name, _needs, agency, cost in ROLES:
        RoleRate.objects.get_or_create(
            pool=pool,
            role=Role.objects.get(slug=slug),
            defaults={"benchmark_agency_rate": agency, "pool_hourly_cost": cost},
        )

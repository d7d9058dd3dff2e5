"""Seed the six Bury postcode districts' approximate centres (docs/DOMAIN: places for demo data)."""

from django.db import migrations

BURY_DISTRICTS = [
    ("BL9", 53.593, -2.298),
    ("BL8", 53.613, -2.339),
    ("BL0", 53.648, -2.317),
    ("M26", 53.561, -2.327),
    ("M45", 53.551, -2.298),
    ("M25", 53.533, -2.285),
]


def seed(apps, schema_editor):
    Postcode = apps.get_model("geo", "Postcode")
    for district, lat, lng in BURY_DISTRICTS:
        Postcode.objects.update_or_create(
            postcode=district, defaults={"district": district, "latitude": lat, "longitude": lng}
        )


def unseed(apps, schema_editor):
    Postcode = apps.get_model("geo", "Postcode")
    Postcode.objects.filter(postcode__in=[d for d, _, _ in BURY_DISTRICTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("geo", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]

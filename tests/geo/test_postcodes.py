from __future__ import annotations

import importlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from geo.models import Postcode
from geo.reference import BURY_DISTRICTS, district_centroids_ensure
from geo.services import UnknownPostcode, postcode_locate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _districts(db):
    # A migration seeds them; a transactional test elsewhere may have emptied the table.
    district_centroids_ensure()


def write_csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "onspd.csv"
    path.write_text("pcd,pcd2,pcds,dointr,lat,long,oslaua\n" + "\n".join(rows) + "\n")
    return path


def test_the_six_bury_districts_are_known_and_the_migration_seeds_the_same_ones():
    assert set(Postcode.objects.values_list("postcode", flat=True)) >= {
        "BL9",
        "BL8",
        "BL0",
        "M26",
        "M45",
        "M25",
    }
    migration = importlib.import_module("geo.migrations.0002_bury_districts")
    assert migration.BURY_DISTRICTS == BURY_DISTRICTS


def test_a_full_postcode_in_a_known_district_resolves_to_the_district_centre():
    location = postcode_locate("bl80ab")
    assert location.postcode == "BL8 0AB"
    assert location.district == "BL8"
    assert (location.latitude, location.longitude) == (53.613, -2.339)


def test_an_imported_postcode_resolves_to_its_own_coordinates(tmp_path):
    path = write_csv(tmp_path, ["BL9 0AA,BL9  0AA,BL9 0AA,199801,53.5901,-2.2950,E08000002"])
    out = StringIO()
    call_command("import_postcodes", str(path), stdout=out)
    assert "Imported 1 postcodes, skipped 0" in out.getvalue()
    location = postcode_locate("BL9 0AA")
    assert (location.latitude, location.longitude) == (53.5901, -2.2950)


def test_import_updates_existing_rows_and_skips_bad_ones(tmp_path):
    rows = [
        "M1 1AA,M1  1AA,M1 1AA,199801,53.48,-2.24,E08000003",
        "ZZ,ZZ,not a postcode,199801,53.48,-2.24,E08000003",
        "M1 1AB,M1  1AB,M1 1AB,199801,99.999999,0.000000,E08000003",
    ]
    call_command("import_postcodes", str(write_csv(tmp_path, rows)), stdout=StringIO())
    rows[0] = "M1 1AA,M1  1AA,M1 1AA,199801,53.49,-2.25,E08000003"
    out = StringIO()
    call_command("import_postcodes", str(write_csv(tmp_path, rows)), stdout=out)
    assert "Imported 1 postcodes, skipped 2" in out.getvalue()
    assert postcode_locate("M1 1AA").latitude == 53.49
    with pytest.raises(UnknownPostcode):
        postcode_locate("M1 1AB")


def test_import_refuses_a_csv_without_the_onspd_columns(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("postcode,latitude,longitude\nBL9 0AA,53.5,-2.2\n")
    with pytest.raises(CommandError, match="pcds"):
        call_command("import_postcodes", str(path), stdout=StringIO())


@pytest.mark.parametrize("raw", ["", "hello", "BL9", "SW1A 1AAA", "12345"])
def test_a_malformed_postcode_is_unknown(raw):
    with pytest.raises(UnknownPostcode):
        postcode_locate(raw)


def test_a_well_formed_postcode_in_an_unknown_district_is_unknown():
    with pytest.raises(UnknownPostcode, match="SW1A 1AA"):
        postcode_locate("SW1A 1AA")


def test_an_unknown_postcode_in_a_district_whose_postcodes_are_loaded_is_an_error(tmp_path):
    rows = ["BL9 0AA,BL9 0AA,BL9 0AA,199801,53.59,-2.29,E08000002"]
    call_command("import_postcodes", str(write_csv(tmp_path, rows)), stdout=StringIO())
    assert postcode_locate("BL9 0AA").latitude == 53.59
    with pytest.raises(UnknownPostcode, match="We cannot find the postcode BL9 9ZZ") as caught:
        postcode_locate("BL9 9ZZ")  # not a quiet fallback to Bury's centre
    assert caught.value.reason == "not_found"
    # A district known only by its centre (no directory loaded for it) still uses it.
    assert postcode_locate("BL8 0AB").district == "BL8"


def test_a_postcode_outside_the_covered_districts_says_so():
    with pytest.raises(UnknownPostcode) as caught:
        postcode_locate("SW1A 1AA")
    assert caught.value.reason == "outside"
    assert "outside the area this pool covers" in caught.value.message
    assert "BL9" in caught.value.message

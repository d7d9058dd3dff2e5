"""Turning a UK postcode into a place: ``postcode_locate`` is what the rest of FlexPool calls."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from django.db import transaction

from geo.models import Postcode

# Outward code (area + district, e.g. "BL9", "M26", "EC1A") then inward code ("0AA").
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


class UnknownPostcode(Exception):
    """The postcode is malformed, or neither it nor its district is known."""

    def __init__(self, postcode: str, message: str, reason: str = "malformed") -> None:
        super().__init__(message)
        self.postcode = postcode
        self.message = message
        # malformed, not_found (in a district whose postcodes we have) or outside
        self.reason = reason


@dataclass(frozen=True)
class Location:
    postcode: str
    district: str
    latitude: float
    longitude: float


def postcode_normalise(raw: str) -> tuple[str, str]:
    """Return ``("BL9 0AA", "BL9")`` for any spacing or case; raise UnknownPostcode if the
    text cannot be a full UK postcode."""
    compact = re.sub(r"\s+", "", (raw or "").upper())
    match = _POSTCODE.match(compact)
    if match is None:
        raise UnknownPostcode(raw, "Enter a full UK postcode, like BL9 0AA.")
    outward, inward = match.groups()
    return f"{outward} {inward}", outward


def postcode_locate(postcode: str) -> Location:
    """Where ``postcode`` is.

    1. A postcode in the imported directory gives its own coordinates.
    2. In a district whose postcodes were imported, any other postcode does not exist:
       an error, never a quiet move to the district's centre.
    3. In a district known only by its centre (no directory imported for it, as in the
       demo), the centre stands in.
    4. A district FlexPool does not know is outside the area the pools cover.
    """
    full, district = postcode_normalise(postcode)
    rows = {row.postcode: row for row in Postcode.objects.filter(postcode__in=[full, district])}
    row = rows.get(full)
    if row is None:
        if Postcode.objects.filter(district=district).exclude(postcode=district).exists():
            raise UnknownPostcode(
                postcode,
                f"We cannot find the postcode {full}. Check it and try again.",
                reason="not_found",
            )
        if district not in rows:
            covered = districts_covered()
            where = f" (postcode districts {', '.join(covered)})" if 0 < len(covered) <= 12 else ""
            raise UnknownPostcode(
                postcode,
                f"{full} is outside the area this pool covers{where}.",
                reason="outside",
            )
        row = rows[district]
    return Location(
        postcode=full, district=district, latitude=row.latitude, longitude=row.longitude
    )


def districts_covered() -> list[str]:
    """The postcode districts FlexPool knows (a centre or imported postcodes)."""
    return list(Postcode.objects.order_by("district").values_list("district", flat=True).distinct())


def district_centroid_set(*, district: str, latitude: float, longitude: float) -> Postcode:
    """Create or move the centre of a postcode district."""
    district = district.strip().upper()
    if not _DISTRICT.match(district):
        raise ValueError(f"{district!r} is not a postcode district")
    row, _ = Postcode.objects.update_or_create(
        postcode=district,
        defaults={"district": district, "latitude": latitude, "longitude": longitude},
    )
    return row


@dataclass
class ImportResult:
    imported: int = 0
    skipped: int = 0


def _onspd_rows(handle: TextIO, result: ImportResult) -> Iterator[Postcode]:
    reader = csv.DictReader(handle)
    missing = {"pcds", "lat", "long"} - set(reader.fieldnames or [])
    if missing:
        raise ValueError(f"CSV lacks the column(s): {', '.join(sorted(missing))}")
    for record in reader:
        try:
            full, district = postcode_normalise(record["pcds"])
            lat, lng = float(record["lat"]), float(record["long"])
        except (UnknownPostcode, ValueError, TypeError):
            result.skipped += 1
            continue
        # ONSPD marks postcodes without a grid reference with latitude 99.999999.
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            result.skipped += 1
            continue
        result.imported += 1
        yield Postcode(postcode=full, district=district, latitude=lat, longitude=lng)


def postcodes_import(*, handle: TextIO, batch_size: int = 5000) -> ImportResult:
    """Load an ONS Postcode Directory CSV (columns ``pcds``, ``lat``, ``long``) in batches;
    postcodes already present are updated in place. Rows that cannot be read are counted
    as skipped."""
    result = ImportResult()
    batch: list[Postcode] = []

    def flush(items: Iterable[Postcode]) -> None:
        Postcode.objects.bulk_create(
            list(items),
            update_conflicts=True,
            unique_fields=["postcode"],
            update_fields=["district", "latitude", "longitude"],
        )

    with transaction.atomic():
        for row in _onspd_rows(handle, result):
            batch.append(row)
            if len(batch) >= batch_size:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    return result

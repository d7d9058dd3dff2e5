"""Postcode districts every installation knows without an ONS import: the Bury pool's."""

from __future__ import annotations

# district, latitude, longitude (approximate town centres)
BURY_DISTRICTS: list[tuple[str, float, float]] = [
    ("BL9", 53.593, -2.298),  # Bury
    ("BL8", 53.613, -2.339),  # Tottington
    ("BL0", 53.648, -2.317),  # Ramsbottom
    ("M26", 53.561, -2.327),  # Radcliffe
    ("M45", 53.551, -2.298),  # Whitefield
    ("M25", 53.533, -2.285),  # Prestwich
]


def district_centroids_ensure() -> None:
    """Create or restore the known districts' centres (idempotent; a migration seeds them,
    and tests that empty the database call this to put them back)."""
    from geo.services import district_centroid_set

    for district, latitude, longitude in BURY_DISTRICTS:
        district_centroid_set(district=district, latitude=latitude, longitude=longitude)

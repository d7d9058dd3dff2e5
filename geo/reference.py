"""Postcode districts every installation knows without an ONS import (the Bury pool's), and
the Greater Manchester districts the region demo places people in."""

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

# The ten Greater Manchester boroughs' main postcode districts: borough -> (district, the
# place it is known by, latitude, longitude of its approximate centre). A district that
# straddles a boundary is listed under the borough holding most of it.
GREATER_MANCHESTER_DISTRICTS: dict[str, list[tuple[str, str, float, float]]] = {
    "Bolton": [
        ("BL1", "Bolton", 53.588, -2.440),
        ("BL2", "Breightmet", 53.585, -2.395),
        ("BL3", "Daubhill", 53.565, -2.445),
        ("BL4", "Farnworth", 53.548, -2.400),
        ("BL5", "Westhoughton", 53.549, -2.522),
        ("BL6", "Horwich", 53.600, -2.548),
        ("BL7", "Bromley Cross", 53.620, -2.415),
    ],
    "Bury": [
        ("BL9", "Bury", 53.593, -2.298),
        ("BL8", "Tottington", 53.613, -2.339),
        ("BL0", "Ramsbottom", 53.648, -2.317),
        ("M26", "Radcliffe", 53.561, -2.327),
        ("M45", "Whitefield", 53.551, -2.298),
        ("M25", "Prestwich", 53.533, -2.285),
    ],
    "Manchester": [
        ("M1", "City Centre", 53.478, -2.235),
        ("M4", "Ancoats", 53.485, -2.222),
        ("M8", "Cheetham Hill", 53.510, -2.236),
        ("M9", "Blackley", 53.522, -2.205),
        ("M11", "Openshaw", 53.478, -2.180),
        ("M12", "Longsight", 53.461, -2.200),
        ("M13", "Ardwick", 53.461, -2.222),
        ("M14", "Fallowfield", 53.445, -2.225),
        ("M15", "Hulme", 53.467, -2.250),
        ("M18", "Gorton", 53.462, -2.168),
        ("M19", "Levenshulme", 53.441, -2.190),
        ("M20", "Didsbury", 53.422, -2.232),
        ("M21", "Chorlton", 53.440, -2.275),
        ("M22", "Wythenshawe", 53.384, -2.262),
        ("M23", "Baguley", 53.397, -2.283),
        ("M40", "Moston", 53.505, -2.185),
    ],
    "Oldham": [
        ("OL1", "Oldham", 53.545, -2.112),
        ("OL2", "Royton", 53.566, -2.110),
        ("OL3", "Uppermill", 53.550, -2.005),
        ("OL4", "Lees", 53.540, -2.070),
        ("OL8", "Hathershaw", 53.526, -2.115),
        ("OL9", "Chadderton", 53.545, -2.145),
        ("M35", "Failsworth", 53.508, -2.158),
    ],
    "Rochdale": [
        ("OL10", "Heywood", 53.592, -2.220),
        ("OL11", "Rochdale", 53.605, -2.165),
        ("OL12", "Wardle", 53.628, -2.160),
        ("OL15", "Littleborough", 53.645, -2.097),
        ("OL16", "Milnrow", 53.610, -2.120),
        ("M24", "Middleton", 53.553, -2.195),
    ],
    "Salford": [
        ("M3", "Salford", 53.486, -2.255),
        ("M5", "Ordsall", 53.478, -2.285),
        ("M6", "Pendleton", 53.492, -2.300),
        ("M7", "Broughton", 53.505, -2.262),
        ("M27", "Swinton", 53.512, -2.345),
        ("M28", "Walkden", 53.522, -2.398),
        ("M30", "Eccles", 53.483, -2.338),
        ("M38", "Little Hulton", 53.532, -2.425),
        ("M44", "Irlam", 53.442, -2.425),
    ],
    "Stockport": [
        ("SK1", "Stockport", 53.409, -2.152),
        ("SK2", "Offerton", 53.398, -2.127),
        ("SK3", "Edgeley", 53.400, -2.172),
        ("SK4", "Heaton Moor", 53.425, -2.185),
        ("SK5", "Reddish", 53.432, -2.155),
        ("SK6", "Bredbury", 53.415, -2.090),
        ("SK7", "Bramhall", 53.365, -2.150),
        ("SK8", "Cheadle", 53.392, -2.212),
    ],
    "Tameside": [
        ("OL5", "Mossley", 53.515, -2.040),
        ("OL6", "Ashton-under-Lyne", 53.495, -2.090),
        ("OL7", "Guide Bridge", 53.487, -2.110),
        ("SK14", "Hyde", 53.451, -2.080),
        ("SK15", "Stalybridge", 53.483, -2.052),
        ("SK16", "Dukinfield", 53.474, -2.087),
        ("M34", "Denton", 53.456, -2.118),
        ("M43", "Droylsden", 53.481, -2.148),
    ],
    "Trafford": [
        ("M16", "Old Trafford", 53.456, -2.265),
        ("M17", "Trafford Park", 53.466, -2.320),
        ("M31", "Partington", 53.418, -2.428),
        ("M32", "Stretford", 53.446, -2.310),
        ("M33", "Sale", 53.425, -2.322),
        ("M41", "Urmston", 53.451, -2.355),
        ("WA14", "Altrincham", 53.387, -2.355),
        ("WA15", "Hale", 53.380, -2.325),
    ],
    "Wigan": [
        ("WN1", "Wigan", 53.550, -2.628),
        ("WN2", "Hindley", 53.535, -2.578),
        ("WN3", "Ince", 53.530, -2.655),
        ("WN5", "Orrell", 53.538, -2.700),
        ("WN6", "Standish", 53.585, -2.663),
        ("WN7", "Leigh", 53.497, -2.518),
        ("M29", "Tyldesley", 53.513, -2.468),
        ("M46", "Atherton", 53.524, -2.493),
        ("WA3", "Golborne", 53.477, -2.595),
    ],
}

# Which boroughs share a boundary.
GREATER_MANCHESTER_NEIGHBOURS: list[tuple[str, str]] = [
    ("Bolton", "Bury"), ("Bolton", "Salford"), ("Bolton", "Wigan"),
    ("Bury", "Manchester"), ("Bury", "Rochdale"), ("Bury", "Salford"),
    ("Manchester", "Oldham"), ("Manchester", "Rochdale"), ("Manchester", "Salford"),
    ("Manchester", "Stockport"), ("Manchester", "Tameside"), ("Manchester", "Trafford"),
    ("Oldham", "Rochdale"), ("Oldham", "Tameside"),
    ("Salford", "Trafford"), ("Salford", "Wigan"),
    ("Stockport", "Tameside"), ("Stockport", "Trafford"),
]  # fmt: skip


def district_centroids_ensure() -> None:
    """Create or restore the known districts' centres (idempotent; a migration seeds them,
    and tests that empty the database call this to put them back)."""
    from geo.services import district_centroid_set

    for district, latitude, longitude in BURY_DISTRICTS:
        district_centroid_set(district=district, latitude=latitude, longitude=longitude)


def region_centroids_ensure() -> None:
    """Create or restore the Greater Manchester districts' centres (the region demo's)."""
    from geo.services import district_centroid_set

    for districts in GREATER_MANCHESTER_DISTRICTS.values():
        for district, _place, latitude, longitude in districts:
            district_centroid_set(district=district, latitude=latitude, longitude=longitude)

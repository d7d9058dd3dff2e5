"""What every bench computes from its timings, written once."""

from __future__ import annotations


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` (0–1) percentile of ``values``, linearly interpolated between the
    two nearest ranks (NaN for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

"""Matching: who may lawfully and practically work a shift, in what order, and in which wave.

A run is set-based: it issues a bounded number of SQL queries (at most 25) whatever the size
of the pool.

1. Load the shift, its skills and the documents it needs (role's, skills', and those every
   worker needs).
2. One query returns the workers who pass every rule the database can answer alone: in the
   shift's pool or opted in, vetted and active, holds the role and every skill, neither side
   has blocked the other, not yet offered this shift, and the site within their own radius
   (plus the shift's bonus) by great-circle distance. They come ordered by the ranking's
   first two keys: favourites first, then half-kilometre band.
3. The per-worker rules (documents valid through the shift's end, availability in London
   wall-clock time incl. overnight and DST days or "ready now" for urgent shifts, no
   overlapping booking, the pool's rest hours, the weekly hours cap) and the ranking facts
   (reliability, hours this week) are loaded in bulk, one query each, for only as many whole
   bands as the wave needs; a second pass covers the rest if that is short.
4. Rank the eligible: favourites, band, reliability, fairness, worker id. Each candidate
   carries human reasons for its place ("4.2 km away", "favourite of this home").
5. A wave offers the next slice of the ranking.

The package's modules: ``rules`` (every eligibility rule as one ``Rule`` object in
``ELIGIBILITY``; ``worker_rule_failures`` and ``matching_explain`` judge one worker),
``ranking`` (who first, ``shift_eligible_workers``), ``waves`` (offers over time and
the periodic jobs), ``memory`` (the same rules, ranking and waves over facts loaded in bulk
and held in memory, for the matching lab's replays). Callers import from ``shifts.matching`` only; the names below are the
package's public API.
"""

from shifts.matching.memory import FactsBook, ShiftMatching, Wave
from shifts.matching.ranking import Candidate, Evaluation, shift_eligible_workers
from shifts.matching.rules import (
    DISTANCE_BAND_KM,
    EARTH_RADIUS_KM,
    ELIGIBILITY,
    KM_PER_DEGREE,
    LONDON,
    RULE_BY_NAME,
    RULES,
    Facts,
    Rule,
    Verdict,
    acceptance_rules,
    haversine_km,
    matching_explain,
    worker_rule_failures,
)
from shifts.matching.waves import (
    is_urgent,
    matching_sweep,
    offer_expiry,
    offers_notify,
    shift_match_wave,
    shifts_due_for_matching,
    wave_interval,
)

# Escalating and closing are lifecycle transitions; they are named here too for callers
# (the lab) that drive a pool through matching's public names.
from shifts.services.lifecycle import shifts_close_past, shifts_escalate

__all__ = [
    "DISTANCE_BAND_KM",
    "EARTH_RADIUS_KM",
    "ELIGIBILITY",
    "KM_PER_DEGREE",
    "LONDON",
    "RULES",
    "RULE_BY_NAME",
    "Candidate",
    "Evaluation",
    "Facts",
    "FactsBook",
    "Rule",
    "ShiftMatching",
    "Verdict",
    "Wave",
    "acceptance_rules",
    "haversine_km",
    "is_urgent",
    "matching_explain",
    "matching_sweep",
    "offer_expiry",
    "offers_notify",
    "shift_eligible_workers",
    "shift_match_wave",
    "shifts_close_past",
    "shifts_due_for_matching",
    "shifts_escalate",
    "wave_interval",
    "worker_rule_failures",
]

"""How workers answer offers, learnt from the pool's own offer history.

``response_model_fit`` fits a logistic regression of "accepted" on five facts about an
offer (distance, hours the worker already had booked that week, evening or night start,
notice given, favourite of the provider) with numpy and scipy, holding out the last weeks
to say how well it predicts (Brier score and calibration by decile). It also keeps the
distribution of response delays (accepts and declines apart) and the share of the
non-accepting who decline rather than let the offer lapse.

The simulator never draws from a shared random stream: each (shift, worker) pair gets its
own uniforms from a hash of the seed and the pair (``pair_uniforms``), so the answer a
worker gives to a shift is the same whatever policy asked, in whatever order, and the
offline optimum can be computed on exactly the answers the policies faced.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from pools.models import Pool
from providers.models import Favourite
from shifts.models import Booking, Offer

LONDON = ZoneInfo("Europe/London")
FEATURES = ["distance_km", "week_hours", "evening", "night", "log_notice_hours", "favourite"]
FEATURE_TEXT = {
    "distance_km": "per km from home to site",
    "week_hours": "per hour already booked that week",
    "evening": "starts 14:00-19:59 (against a day start)",
    "night": "starts 20:00-05:59 (against a day start)",
    "log_notice_hours": "per unit of ln(1 + hours of notice)",
    "favourite": "favourite of the provider",
}
QUANTILES = 41  # points kept of each delay distribution
L2 = 1.0  # ridge penalty on the standardised coefficients (not the intercept)


def offer_features(
    *,
    distance_km: float,
    week_hours: float,
    start: datetime,
    notice: timedelta,
    favourite: bool,
) -> list[float]:
    hour = start.astimezone(LONDON).hour
    evening = 14 <= hour < 20
    night = hour >= 20 or hour < 6
    notice_hours = max(notice.total_seconds() / 3600, 0.0)
    return [
        float(distance_km),
        float(week_hours),
        float(evening),
        float(night),
        math.log1p(notice_hours),
        float(favourite),
    ]


def iso_week_start(moment: datetime) -> datetime:
    local = moment.astimezone(LONDON)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=LONDON)


def hours_in_week(bookings: list[tuple[datetime, datetime]], week_of: datetime) -> float:
    lo = iso_week_start(week_of)
    hi = lo + timedelta(days=7)
    lo_ts = lo.timestamp()
    hi_ts = datetime(hi.year, hi.month, hi.day, tzinfo=LONDON).timestamp()
    total = 0.0
    for start, end in bookings:
        seconds = min(end.timestamp(), hi_ts) - max(start.timestamp(), lo_ts)
        total += max(seconds, 0.0)
    return total / 3600


def pair_uniforms(seed: int, shift_key: str, worker_key: str) -> tuple[float, float, float]:
    """Three independent uniforms in [0, 1) for one (shift, worker) pair under one seed."""
    digest = hashlib.blake2b(f"{seed}|{shift_key}|{worker_key}".encode(), digest_size=24).digest()
    return tuple(  # type: ignore[return-value]
        int.from_bytes(digest[i : i + 8], "big") / 2**64 for i in (0, 8, 16)
    )


@dataclass
class Answer:
    accepts: bool
    declines: bool
    delay: timedelta


@dataclass
class ResponseModel:
    coefficients: list[float]  # intercept, then one per FEATURES, on the raw scale
    accept_delays: list[float]  # minutes, quantiles 0..1
    decline_delays: list[float]
    decline_share: float
    n_offers: int = 0
    base_rate: float = 0.5
    heldout: dict[str, Any] = field(default_factory=dict)

    def p_accept(self, x: list[float]) -> float:
        z = self.coefficients[0] + sum(b * v for b, v in zip(self.coefficients[1:], x, strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def answer(self, x: list[float], uniforms: tuple[float, float, float]) -> Answer:
        u_accept, u_delay, u_decline = uniforms
        accepts = u_accept < self.p_accept(x)
        delays = self.accept_delays if accepts else self.decline_delays
        declines = not accepts and u_decline < self.decline_share
        return Answer(accepts, declines, timedelta(minutes=_quantile(delays, u_delay)))

    def table(self) -> list[dict[str, Any]]:
        rows = [{"feature": "intercept", "meaning": "log-odds at zero", "coefficient": 0.0}]
        rows[0]["coefficient"] = round(self.coefficients[0], 4)
        for name, b in zip(FEATURES, self.coefficients[1:], strict=True):
            rows.append(
                {
                    "feature": name,
                    "meaning": FEATURE_TEXT[name],
                    "coefficient": round(b, 4),
                    "odds_ratio": round(math.exp(b), 3),
                }
            )
        return rows

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResponseModel:
        return cls(**data)

    @classmethod
    def fixed(
        cls, *, p: float, delay_minutes: float = 5.0, decline_share: float = 0.5
    ) -> ResponseModel:
        """Everyone accepts with probability ``p`` after ``delay_minutes`` (for hand-built cases)."""
        p = min(max(p, 1e-9), 1 - 1e-9)
        return cls(
            coefficients=[math.log(p / (1 - p))] + [0.0] * len(FEATURES),
            accept_delays=[delay_minutes, delay_minutes],
            decline_delays=[delay_minutes, delay_minutes],
            decline_share=decline_share,
            base_rate=p,
        )


def _quantile(points: list[float], u: float) -> float:
    if not points:
        return 10.0
    position = u * (len(points) - 1)
    low = int(position)
    high = min(low + 1, len(points) - 1)
    return points[low] + (points[high] - points[low]) * (position - low)


def _quantiles(values: list[float]) -> list[float]:
    if not values:
        return [10.0, 10.0]
    return [round(float(v), 2) for v in np.quantile(values, np.linspace(0, 1, QUANTILES))]


def _fit_logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ridge-penalised logistic regression; returns raw-scale [intercept, b1..bk]."""
    mean = x.mean(axis=0)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    z = (x - mean) / sd
    design = np.hstack([np.ones((len(z), 1)), z])

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        eta = design @ beta
        # log(1 + e^eta) - y * eta, stably
        value = np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * L2 * np.sum(beta[1:] ** 2)
        p = 1.0 / (1.0 + np.exp(-eta))
        grad = design.T @ (p - y)
        grad[1:] += L2 * beta[1:]
        return float(value), grad

    # SciPy is loaded by a fit, not by every process that imports the lab's pages.
    from scipy.optimize import minimize

    start = np.zeros(design.shape[1])
    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    beta_std = result.x
    raw = beta_std[1:] / sd
    intercept = beta_std[0] - float(np.sum(beta_std[1:] * mean / sd))
    return np.concatenate([[intercept], raw])


def _predict(coefficients: np.ndarray, x: np.ndarray) -> np.ndarray:
    eta = coefficients[0] + x @ coefficients[1:]
    return 1.0 / (1.0 + np.exp(-np.clip(eta, -40, 40)))


def _calibration(p: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    order = np.argsort(p, kind="stable")
    rows = []
    for i, part in enumerate(np.array_split(order, 10)):
        if len(part) == 0:
            continue
        rows.append(
            {
                "decile": i + 1,
                "n": len(part),
                "predicted": round(float(p[part].mean()), 3),
                "observed": round(float(y[part].mean()), 3),
            }
        )
    return rows


def offer_history(*, pool: Pool, before: datetime | None = None) -> list[dict[str, Any]]:
    """The pool's answered or lapsed offers with the five facts and the outcome."""
    qs = Offer.objects.filter(
        shift__pool=pool,
        status__in=[Offer.Status.ACCEPTED, Offer.Status.DECLINED, Offer.Status.EXPIRED],
    )
    if before is not None:
        qs = qs.filter(sent_at__lt=before)
    rows = list(
        qs.order_by("sent_at", "pk").values_list(
            "worker_id",
            "shift_id",
            "shift__provider_id",
            "shift__start",
            "status",
            "distance_km",
            "sent_at",
            "responded_at",
        )
    )
    worker_ids = {r[0] for r in rows}
    favourites = set(
        Favourite.objects.filter(provider__pool=pool).values_list("provider_id", "worker_id")
    )
    bookings: dict[int, list[tuple[datetime, datetime, datetime, int]]] = defaultdict(list)
    for wid, start, end, booked_at, shift_id in Booking.objects.filter(
        worker_id__in=worker_ids, status__in=Booking.LIVE_STATUSES
    ).values_list("worker_id", "start", "end", "booked_at", "shift_id"):
        bookings[wid].append((start, end, booked_at, shift_id))
    history = []
    for wid, shift_id, provider_id, start, status, km, sent_at, responded_at in rows:
        held = [
            (b_start, b_end)
            for b_start, b_end, booked_at, b_shift in bookings.get(wid, [])
            if booked_at < sent_at and b_shift != shift_id
        ]
        history.append(
            {
                "x": offer_features(
                    distance_km=float(km),
                    week_hours=hours_in_week(held, start),
                    start=start,
                    notice=start - sent_at,
                    favourite=(provider_id, wid) in favourites,
                ),
                "accepted": status == Offer.Status.ACCEPTED,
                "declined": status == Offer.Status.DECLINED,
                "delay": (
                    (responded_at - sent_at).total_seconds() / 60
                    if responded_at is not None
                    else None
                ),
                "week": iso_week_start(sent_at).date().isoformat(),
            }
        )
    return history


def response_model_fit(*, pool: Pool, before: datetime | None = None) -> ResponseModel:
    """Fit the response model on the pool's offer history (before ``before`` if given).

    1. Load every accepted, declined or lapsed offer with its five facts.
    2. Hold out the last fifth of the weeks (at least one); fit on the rest; score the
       held-out offers (Brier score, against always predicting the training rate, and
       calibration by decile).
    3. Fit again on every week for the simulator to use.
    With no history at all, everyone accepts half of their offers after ten minutes."""
    history = offer_history(pool=pool, before=before)
    if len(history) < 20:
        model = ResponseModel.fixed(p=0.5, delay_minutes=10.0)
        model.n_offers = len(history)
        model.heldout = {"note": "too little offer history: a flat 50 % model is used"}
        return model
    x = np.array([h["x"] for h in history], dtype=float)
    y = np.array([1.0 if h["accepted"] else 0.0 for h in history])
    weeks = sorted({h["week"] for h in history})
    held = set(weeks[-max(1, len(weeks) // 5) :]) if len(weeks) > 1 else set()
    test = np.array([h["week"] in held for h in history])
    heldout: dict[str, Any] = {}
    if held and (~test).sum() >= 10 and test.sum() >= 10:
        coefficients = _fit_logistic(x[~test], y[~test])
        p = _predict(coefficients, x[test])
        base = float(y[~test].mean())
        heldout = {
            "weeks": sorted(held),
            "n": int(test.sum()),
            "brier": round(float(np.mean((p - y[test]) ** 2)), 4),
            "brier_base_rate": round(float(np.mean((base - y[test]) ** 2)), 4),
            "deciles": _calibration(p, y[test]),
        }
    coefficients = _fit_logistic(x, y)
    accept_delays = [h["delay"] for h in history if h["accepted"] and h["delay"] is not None]
    decline_delays = [h["delay"] for h in history if h["declined"] and h["delay"] is not None]
    not_accepted = [h for h in history if not h["accepted"]]
    declined = sum(1 for h in not_accepted if h["declined"])
    return ResponseModel(
        coefficients=[round(float(c), 6) for c in coefficients],
        accept_delays=_quantiles([max(d, 0.0) for d in accept_delays]),
        decline_delays=_quantiles([max(d, 0.0) for d in decline_delays]),
        decline_share=round(declined / len(not_accepted), 4) if not_accepted else 0.5,
        n_offers=len(history),
        base_rate=round(float(y.mean()), 4),
        heldout=heldout,
    )


__all__ = [
    "FEATURES",
    "Answer",
    "ResponseModel",
    "hours_in_week",
    "iso_week_start",
    "offer_features",
    "pair_uniforms",
    "response_model_fit",
]

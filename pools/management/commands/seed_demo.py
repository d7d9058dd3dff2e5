"""``manage.py seed_demo``: build the demo borough (see ``pools.demo``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pools.demo import (
    COORDINATOR_EMAIL,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    PROVIDER_EMAIL,
    REGIONS,
    WORKER_EMAIL,
    DemoAlreadyBuilt,
    DemoParams,
    demo_borough_build,
    demo_region_build,
)


def _between(low: int, high: int) -> Any:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    parse.__name__ = f"number from {low} to {high}"
    return parse


class Command(BaseCommand):
    help = (
        "Build a realistic, deterministic demo borough (Bury) with providers, workers and "
        "shift history, plus the three demo logins. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = DemoParams()
        parser.add_argument(
            "--seed", type=int, default=defaults.seed, help="Same seed, same borough."
        )
        parser.add_argument(
            "--providers",
            type=_between(1, 5000),
            default=defaults.providers,
            help="Care providers (two thirds small), each with one or more sites.",
        )
        parser.add_argument(
            "--workers",
            type=_between(0, 1_000_000),
            default=defaults.workers,
            help="Flex workers besides worker@flexpool.test (at most 100,000 without "
            "--region; with it, split evenly over the boroughs).",
        )
        parser.add_argument(
            "--region",
            choices=REGIONS,
            default="",
            help="Build every borough of the region, each its own pool, with providers, "
            "sites and workers (split evenly; workers near a border opt in to the "
            "neighbouring pool) and no shift history.",
        )
        parser.add_argument(
            "--days", type=_between(1, 3650), default=defaults.days, help="Days of history."
        )
        parser.add_argument(
            "--history-shifts",
            type=_between(0, 5_000_000),
            default=None,
            help="Historical shift requests over --days (default: 30 a day).",
        )
        parser.add_argument(
            "--future-days",
            type=_between(0, 60),
            default=defaults.future_days,
            help="Days of upcoming shifts, some open for matching.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete every person, provider, worker and shift first (keeps pools and "
            "reference data). Never on real data.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        history = options["history_shifts"]
        region = options["region"]
        if region:
            params = DemoParams(
                seed=options["seed"],
                providers=options["providers"],
                workers=options["workers"],
                days=1,
                history_shifts=0,
                future_days=0,
                region=region,
            )
        else:
            if options["workers"] > 100_000:
                raise CommandError("--workers: at most 100,000 without --region")
            params = DemoParams(
                seed=options["seed"],
                providers=options["providers"],
                workers=options["workers"],
                days=days,
                history_shifts=30 * days if history is None else history,
                future_days=options["future_days"],
            )
        verbose = (
            options["verbosity"] > 1 or params.history_shifts > 50_000 or params.workers > 50_000
        )
        build = demo_region_build if region else demo_borough_build
        try:
            summary = build(
                params=params,
                reset=options["reset"],
                progress=(lambda line: self.stdout.write(line)) if verbose else None,
            )
        except DemoAlreadyBuilt as exc:
            raise CommandError(str(exc)) from exc
        if summary.built:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Built the demo {'region' if region else 'borough'} in "
                    f"{summary.seconds:.1f} s:"
                )
            )
            for label, count in summary.counts.items():
                if count:
                    self.stdout.write(f"  {label:<28} {count:>10,}")
        else:
            self.stdout.write(
                f"The demo borough is already built with these parameters "
                f"({summary.seconds:.1f} s to check)."
            )
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Demo logins (password {DEMO_PASSWORD}): {COORDINATOR_EMAIL} "
                f"(TOTP secret {DEMO_TOTP_SECRET}), {PROVIDER_EMAIL}, {WORKER_EMAIL}"
            )

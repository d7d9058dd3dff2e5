"""``manage.py simulate``: replay a pool's demand through matching and print the figures
(see ``lab.services.lab_simulate``)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lab.services import lab_run_record, lab_simulate
from lab.simulator import ScenarioError, demand_synthetic, policy_parse, workers_parse
from pools.models import Pool


class Command(BaseCommand):
    help = (
        "Replay a date range of a pool's shift requests (or a synthetic day) through the real "
        "matching code on a simulated clock, in a transaction that is rolled back; print fill, "
        "the offline optimum and the broadcast and cascade baselines. The run is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pool", required=True, help="The pool's slug, e.g. bury.")
        parser.add_argument("--from", dest="start", required=True, type=date.fromisoformat)
        parser.add_argument("--to", dest="end", required=True, type=date.fromisoformat)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--set", dest="set", action="append", default=[], metavar="NAME=VALUE",
            help="A policy change, e.g. wave_size=10 or offer_ttl_minutes=30 (repeatable).",
        )  # fmt: skip
        parser.add_argument(
            "--add-workers", dest="add_workers", action="append", default=[],
            metavar='"N ROLE [SKILL ...] DISTRICT"',
            help='Hypothetical recruits, e.g. "10 senior-carer medication M26" (repeatable).',
        )  # fmt: skip
        parser.add_argument(
            "--synthetic", type=int, default=0, metavar="VOLUME",
            help="Instead of the range's own requests: this many synthetic requests on each day.",
        )  # fmt: skip
        parser.add_argument("--urgent-share", type=float, default=0.3)
        parser.add_argument("--no-baselines", action="store_true")
        parser.add_argument("--no-optimum", action="store_true")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--no-store", action="store_true", help="Do not store the run.")

    def handle(self, *args: Any, **options: Any) -> None:
        pool = Pool.objects.filter(slug=options["pool"]).first()
        if pool is None:
            raise CommandError(f"No pool {options['pool']!r}.")
        try:
            policy = policy_parse(options["set"])
            batches = workers_parse(options["add_workers"])
            demand = None
            if options["synthetic"]:
                demand = []
                day = options["start"]
                while day <= options["end"]:
                    demand += demand_synthetic(
                        pool=pool, day=day, volume=options["synthetic"],
                        urgent_share=options["urgent_share"], seed=options["seed"],
                    )  # fmt: skip
                    day = date.fromordinal(day.toordinal() + 1)
            outputs = lab_simulate(
                pool=pool,
                start=options["start"],
                end=options["end"],
                seed=options["seed"],
                policy=policy,
                add_workers=batches,
                demand=demand,
                baselines=not options["no_baselines"],
                optimum=not options["no_optimum"],
            )
        except ScenarioError as exc:
            raise CommandError(str(exc)) from exc
        if not options["no_store"]:
            inputs = {
                "from": options["start"].isoformat(),
                "to": options["end"].isoformat(),
                "set": options["set"],
                "add_workers": options["add_workers"],
                "synthetic": options["synthetic"],
                "urgent_share": options["urgent_share"],
            }
            run = lab_run_record(
                pool=pool, kind="simulate", inputs=inputs, seed=options["seed"], outputs=outputs
            )
            outputs_id = run.pk
        else:
            outputs_id = None
        if options["json"]:
            self.stdout.write(json.dumps(outputs | {"run_id": outputs_id}, sort_keys=True))
            return
        self._report(outputs)

    def _report(self, o: dict[str, Any]) -> None:
        w = self.stdout.write
        w(f"{o['pool']} {o['from']} .. {o['to']} seed {o['seed']}: {o['shifts']} requests, "
          f"{o['places']} places, {o['hours_requested']} h")  # fmt: skip
        w(f"  fill: {o['fill_rate_hours']:.1%} of hours, {o['fill_rate_shifts']:.1%} of requests")
        if "optimum_hours" in o:
            w(f"  optimum ({o['bound']}): {o['optimum_hours']} h = "
              f"{o['optimum_fill_rate_hours']:.1%}; online / optimum = {o['ratio_to_optimum']}")  # fmt: skip
        w(f"  time to fill: median {o['median_time_to_fill_minutes']} min, "
          f"p90 {o['p90_time_to_fill_minutes']} min; offers per filled place "
          f"{o['offers_per_filled_place']}; escalations {o['escalations']}")  # fmt: skip
        w(f"  agency avoided: {o['agency_hours_avoided']} h, £{o['agency_spend_avoided']:,.2f}")
        for name, b in o.get("baselines", {}).items():
            w(f"  {name}: fill {b['fill_rate_hours']:.1%} of hours, ratio "
              f"{b.get('ratio_to_optimum')}, offers/place {b['offers_per_filled_place']}")  # fmt: skip
        w(f"  {o['seconds']} s")

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from geo.services import postcodes_import


class Command(BaseCommand):
    help = "Import an ONS Postcode Directory CSV (columns pcds, lat, long)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv", type=Path)
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["csv"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with path.open(newline="", encoding="utf-8-sig") as handle:
            try:
                result = postcodes_import(handle=handle, batch_size=options["batch_size"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(f"Imported {result.imported} postcodes, skipped {result.skipped}.")

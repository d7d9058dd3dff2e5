"""Calendar quarters as the workforce returns and committee reports name them: "2026-Q3"
is July to September 2026. A return is due 28 days after its quarter ends."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

DUE_AFTER_DAYS = 28
_PATTERN = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]  # fmt: skip


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """'2026-Q3' → Quarter(2026, 3); ValueError for anything else."""
        match = _PATTERN.match(text.strip().upper()) if isinstance(text, str) else None
        if match is None:
            raise ValueError("Enter a quarter like 2026-Q3.")
        year = int(match.group(1))
        if not 2000 <= year <= 2100:
            raise ValueError("Enter a quarter between 2000 and 2100.")
        return cls(year, int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    @property
    def due(self) -> date:
        return self.end + timedelta(days=DUE_AFTER_DAYS)

    @property
    def label(self) -> str:
        first, last = _MONTHS[3 * self.number - 3], _MONTHS[3 * self.number - 1]
        return f"{first} to {last} {self.year}"

    def shift(self, quarters: int) -> Quarter:
        index = self.year * 4 + self.number - 1 + quarters
        return Quarter(index // 4, index % 4 + 1)

    def next(self) -> Quarter:
        return self.shift(1)

    def previous(self) -> Quarter:
        return self.shift(-1)

    def last(self, n: int) -> list[Quarter]:
        """The ``n`` quarters ending with this one, oldest first."""
        return [self.shift(-i) for i in range(n - 1, -1, -1)]


def quarter_to_return(today: date) -> Quarter:
    """The quarter providers are asked about now: the last one that has ended."""
    return Quarter.of(today).previous()

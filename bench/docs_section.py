"""Where a bench records its figures: its own section of docs/benchmarks.md, replaced in place
(or appended the first time), so a re-run updates the table instead of piling up copies."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def benchmarks_section_write(section: str, report: str) -> None:
    """Put ``report`` (which starts with the heading ``section``) in docs/benchmarks.md."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text()
    pattern = re.compile(re.escape(section) + r"\n.*?(?=\n## |\Z)", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: report.rstrip("\n") + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + report
    path.write_text(text)
    print(f"Recorded in {path.relative_to(ROOT)}")

"""Run FlexPool's benchmarks (`make bench`): every other script in bench/, one after the
other, each with --write so its figures land in docs/benchmarks.md.

    .venv/bin/python bench/run.py                 # all of them
    .venv/bin/python bench/run.py posting matching  # some, by name

Each script builds its own PostgreSQL database and says how it measured.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != "run.py")
    if names:
        scripts = [p for p in scripts if p.stem in names]
        unknown = set(names) - {p.stem for p in scripts}
        if unknown:
            print(f"no such benchmark: {', '.join(sorted(unknown))}")
            return 2
    failed = []
    for script in scripts:
        print(f"=== {script.stem}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(script), "--write"], cwd=HERE.parent)
        print(f"=== {script.stem}: exit {result.returncode} in {time.monotonic() - started:.0f} s")
        if result.returncode != 0:
            failed.append(script.stem)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

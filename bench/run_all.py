"""Run every bench/bench_*.py script present, one after the other (never at once:
they would time each other).

    .venv/bin/python bench/run_all.py [extra arguments passed to every script]

Each script writes its own bench/results/*.md. Exits non-zero if any script failed,
after running the rest.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(BENCH.glob("bench_*.py"))
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        t0 = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *sys.argv[1:]], cwd=BENCH.parent)
        print(f"== {script.name}: exit {code} after {time.perf_counter() - t0:.1f} s",
              flush=True)
        if code:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

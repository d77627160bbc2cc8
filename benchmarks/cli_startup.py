"""Start-up time of the command line: `tokenfactory --help` and `tokenfactory validate lab` against the
interpreter's own start-up (`python -c pass`), best of N fresh processes each.

Run from the project's checkout (validate finds the lab stack through the project).
Usage: python benchmarks/cli_startup.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path


def command(*args: str) -> list[str]:
    """The installed `tokenfactory` script beside this interpreter, else `python -m tokenfactory`."""
    script = Path(sys.executable).parent / "tokenfactory"
    return [str(script), *args] if script.is_file() else [sys.executable, "-m", "tokenfactory", *args]


def best_of(argv: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    bare = best_of([sys.executable, "-c", "pass"], args.repeat)
    print(f"{'command':<28} {'best ms':>8} {'over python':>11}  (best of {args.repeat})")
    print(f"{'python -c pass':<28} {bare * 1000:>8.0f} {'':>11}")
    for label, argv in (("tokenfactory --help", command("--help")),
                        ("tokenfactory validate lab", command("validate", "lab"))):
        best = best_of(argv, args.repeat)
        print(f"{label:<28} {best * 1000:>8.0f} {(best - bare) * 1000:>+10.0f}ms")


if __name__ == "__main__":
    main()

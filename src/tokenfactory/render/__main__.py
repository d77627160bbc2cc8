"""`python -m tokenfactory.render STACK FOLDER`: the rank table the network phase installs on A3 hosts, with the
hardware facts collected in FOLDER and the current run's records (a JSON list on stdin, newer); see
tokenfactory.render.collected. The table on stdout; exit 1 with the reason on stderr, and no table, when a
server's facts are missing or disagree with the plan.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tokenfactory.errors import TokenfactoryError
from tokenfactory.render.collected import load_collected
from tokenfactory.render.ranktable import render_rank_table
from tokenfactory.topology import build_cluster
from tokenfactory.topology.stackfile import read_stack


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m tokenfactory.render STACK FOLDER < records.json", file=sys.stderr)
        return 2
    try:
        cluster = build_cluster(read_stack(argv[0]).cluster)
        text = sys.stdin.read().strip()
        collected = load_collected(Path(argv[1]), json.loads(text) if text else [])
        sys.stdout.write(render_rank_table(cluster, collected))
    except (TokenfactoryError, ValueError) as error:
        print(f"rank table: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

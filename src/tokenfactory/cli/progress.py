"""Live progress of a run on a terminal (rich); silent otherwise. Thread-safe: super-nodes run in parallel."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table


@dataclass
class _Lane:
    phase: str
    group: str
    total: int
    done: int = 0
    task: str = "starting"
    failures: list[str] = field(default_factory=list)


class Progress:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = self.console.is_terminal
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._lock = threading.Lock()
        self._live: Live | None = None

    @contextmanager
    def shown(self) -> Iterator[Progress]:
        if not self.enabled:
            yield self
            return
        with Live(self._table(), console=self.console, refresh_per_second=4, transient=False) as live:
            self._live = live
            try:
                yield self
            finally:
                live.update(self._table())
                self._live = None

    def lane(self, phase: str, group: str, total: int) -> None:
        with self._lock:
            self._lanes[(phase, group)] = _Lane(phase, group, total)
        self._refresh()

    def event(self, phase: str, group: str, event: dict[str, Any]) -> None:
        kind = event.get("event")
        data = event.get("event_data") or {}
        with self._lock:
            lane = self._lanes[(phase, group)]
            if kind == "playbook_on_task_start":
                lane.task = str(data.get("task", ""))
            elif kind in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
                what = "unreachable" if kind == "runner_on_unreachable" else f"failed: {data.get('task')}"
                lane.failures.append(f"{data.get('host')} {what}")
                if self._live is not None:
                    self.console.print(f"[red]{phase} {data.get('host')}[/] {what}")
            elif kind == "playbook_on_stats":
                lane.done = lane.total
                lane.task = "done"
        self._refresh()

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._table())

    def _table(self) -> Table:
        table = Table(show_edge=False, pad_edge=False)
        for column in ("phase", "super-node", "hosts done", "current task", "failures"):
            table.add_column(column)
        with self._lock:
            for lane in self._lanes.values():
                table.add_row(lane.phase, lane.group, f"{lane.done}/{lane.total}", lane.task[:60],
                              str(len(lane.failures)) if lane.failures else "")
        return table

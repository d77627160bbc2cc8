"""`tokenfactory artifacts lock|check`: vendor packages pinned by sha256, and the mirror checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tokenfactory.cli.common import Exit, StackArg, load, print_json, reported_errors, stderr
from tokenfactory.errors import TokenfactoryError

if TYPE_CHECKING:
    from tokenfactory.artifacts import ArtifactResult

artifacts_app = typer.Typer(help="Vendor packages: lock their sha256 into the stack, check the mirror.",
                            no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _report(stack: str, action: str, results: list[ArtifactResult], as_json: bool, code: Exit) -> None:
    problems = [r for r in results if r.status != "ok"]
    if as_json:
        print_json(json.dumps({"stack": stack, "action": action, "status": "failed" if problems else "ok",
                               "exit_code": int(code), "files": [r.to_json() for r in results]},
                              indent=2, sort_keys=True))
    for result in results:
        if result.status == "ok":
            if not as_json:
                typer.echo(f"ok  {result.file}  {result.sha256}")
        else:
            stderr().print(f"{result.status}  {result.file}: {result.detail}", markup=False, highlight=False)
    if code != Exit.OK:
        raise typer.Exit(int(code))


@artifacts_app.command()
def lock(stack: StackArg,
         directory: Annotated[Path, typer.Argument(help="Directory holding the downloaded vendor packages.")],
         as_json: JsonOpt = False) -> None:
    """Check the downloaded packages against the release (names, versions, each .run's own --check) and
    write their sha256 into the stack under cluster.artifacts.sha256; on any problem nothing is written."""
    from tokenfactory.artifacts import inspect_directory, write_pins

    with reported_errors(as_json):
        stack_file, cluster = load(stack)
        results = inspect_directory(cluster, directory)
        if all(r.status == "ok" for r in results):
            try:
                write_pins(stack_file.path, {r.file: r.sha256 for r in results if r.sha256})
            except OSError as error:
                raise TokenfactoryError(f"{stack_file.path}: cannot write the pins: {error.strerror}") from None
    failed = any(r.status != "ok" for r in results)
    _report(stack_file.name, "lock", results, as_json, Exit.ERROR if failed else Exit.OK)
    if not as_json:
        typer.echo(f"{stack_file.path}: {len(results)} sha256 pinned under cluster.artifacts.sha256")


@artifacts_app.command()
def check(stack: StackArg,
          lab_mirror: Annotated[bool, typer.Option("--lab", help="Check the stack's lab mirror against "
                                                   "the lab's SHA256SUMS instead.")] = False,
          as_json: JsonOpt = False) -> None:
    """Download every package of the release from the mirror and compare it with its pinned sha256."""
    from tokenfactory.artifacts import check_mirror

    with reported_errors(as_json):
        stack_file, cluster = load(stack)
        mirror, pins = str(cluster.spec.artifacts.mirror), None
        if lab_mirror:
            from tokenfactory.lab import lab

            state = lab.load_state(stack_file.name)
            if state is None:
                raise TokenfactoryError(f"no lab for stack {stack_file.name}: run `tokenfactory lab up "
                                        f"{stack_file.name}` first")
            mirror, pins = state.mirror, lab.mirror_sums(stack_file.name)
        results = check_mirror(cluster, mirror, pins)
    statuses = {r.status for r in results}
    code = Exit.HOSTS_FAILED if "unreachable" in statuses else Exit.ERROR if statuses - {"ok"} else Exit.OK
    _report(stack_file.name, "check", results, as_json, code)
    if not as_json:
        typer.echo(f"{mirror}: serves all {len(results)} packages with the pinned sha256")

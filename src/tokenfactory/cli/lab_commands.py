"""`tokenfactory lab up|down|status|fault`: the container lab (all NPU behaviour simulated)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tokenfactory.cli.common import StackArg, load, print_json, reported_errors

lab_app = typer.Typer(help="The container lab: one simulated NPU server per container.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@lab_app.command()
def up(stack: StackArg, as_json: JsonOpt = False) -> None:
    """Render STACK, then start (or reuse) its lab: host containers, mirror, SSH, inventory overlay."""
    from tokenfactory.deploy import Deployment
    from tokenfactory.lab import lab

    with reported_errors(as_json):
        stack_file, cluster = load(stack)
        deployment = Deployment.prepare(stack_file.name, cluster)
        deployment.render()
        state = lab.up(stack_file.name, cluster)
    if as_json:
        print_json(json.dumps(state.to_json(), indent=2, sort_keys=True))
        return
    typer.echo(f"lab {state.stack}: {len(state.hosts)} simulated host(s) up, mirror {state.mirror}")
    for name, address in sorted(state.hosts.items()):
        typer.echo(f"  {name}  {address}")
    typer.echo(f"inventory: -i {deployment.inventory_dir / 'hosts.yml'} -i {state.inventory}")


@lab_app.command()
def down(stack: StackArg) -> None:
    """Remove exactly what `lab up` made for STACK."""
    from tokenfactory.lab import lab

    with reported_errors():
        stack_file, _ = load(stack)
        removed = lab.down(stack_file.name)
    typer.echo(f"lab {stack_file.name}: removed {len(removed)} item(s)" + "".join(f"\n  {r}" for r in removed))


@lab_app.command()
def status(stack: StackArg, as_json: JsonOpt = False) -> None:
    """Show the lab's containers and where its inventory overlay is."""
    from tokenfactory.lab import lab

    with reported_errors(as_json):
        stack_file, _ = load(stack)
        report = lab.status(stack_file.name)
    if as_json:
        print_json(json.dumps(report, indent=2, sort_keys=True))
        return
    if not report["containers"]:
        typer.echo(f"lab {stack_file.name}: not running")
        return
    for name, state in sorted(report["containers"].items()):
        typer.echo(f"  {name}  {state}")


@lab_app.command()
def fault(
    stack: StackArg,
    host: Annotated[str, typer.Argument(metavar="HOST", help="Lab host (inventory name).")],
    *,
    unhealthy: Annotated[list[int] | None, typer.Option(help="Device reported Critical.")] = None,
    missing: Annotated[list[int] | None, typer.Option(help="Device absent.")] = None,
    slow: Annotated[list[int] | None, typer.Option(help="Device with a slow link.")] = None,
    link_down: Annotated[list[int] | None, typer.Option(help="Device whose link is DOWN.")] = None,
    optical_low: Annotated[list[int] | None, typer.Option(help="Device whose optics receive almost no light.")] = None,
    link_flap: Annotated[list[int] | None, typer.Option(help="Device whose link has flapped.")] = None,
    ecc_errors: Annotated[list[int] | None, typer.Option(help="Device with HBM ECC errors.")] = None,
    hccs_down: Annotated[list[int] | None, typer.Option(help="Device whose HCCS pings are lost (A3).")] = None,
) -> None:
    """Inject simulated device faults on a lab host (no option: clear them)."""
    faults = {"unhealthy": unhealthy or [], "missing": missing or [], "slow": slow or [],
              "link_down": link_down or [], "optical_low": optical_low or [], "link_flap": link_flap or [],
              "ecc_errors": ecc_errors or [], "hccs_down": hccs_down or []}
    from tokenfactory.lab import lab

    with reported_errors():
        stack_file, _ = load(stack)
        lab.set_faults(stack_file.name, host, faults)
    active = {kind: devices for kind, devices in faults.items() if devices}
    typer.echo(f"{host}: simulated faults {active or 'cleared'}")
